package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"
)

const (
	checkpointFile    = "checkpoint.json"
	checkpointVersion = 1
)

// checkpoint is FABRICA_CHECKPOINT_DIR/checkpoint.json: everything a restarted group
// needs to continue exactly where this one stopped.
type checkpoint struct {
	FormatVersion int    `json:"format_version"`
	JobID         string `json:"job_id"`
	RunID         string `json:"run_id"`
	Step          int    `json:"step"` // steps completed
	WorldSize     int    `json:"world_size"`
	Seed          uint64 `json:"seed"`
	Features      int    `json:"features"`
	// BatchRNG is the position of the batch-order generator. It is recomputed from the
	// seed and the step on resume (see batcher) and recorded here for inspection.
	BatchRNG struct {
		Epoch       int `json:"epoch"`
		StepInEpoch int `json:"step_in_epoch"`
	} `json:"batch_rng"`
	InitialLoss float64    `json:"initial_loss"` // global loss at step 0, for the "done" line
	Params      []float64  `json:"params"`
	Optimizer   *optimizer `json:"optimizer"`
}

// finalState is FABRICA_CHECKPOINT_DIR/final-rank-<RANK>.json.
type finalState struct {
	Rank         int       `json:"rank"`
	JobID        string    `json:"job_id"`
	RunID        string    `json:"run_id"`
	Step         int       `json:"step"`
	Loss         float64   `json:"loss"`
	ParamsSHA256 string    `json:"params_sha256"`
	Params       []float64 `json:"params"`
}

// trainer is one rank's training state.
type trainer struct {
	cfg   config
	env   contract
	log   *logger
	files *sync.Mutex
	red   reducer

	data        *dataset
	batches     *batcher
	params      []float64
	opt         *optimizer
	step        int
	initialLoss float64
	saved       int // step of the last checkpoint written, -1 if none
}

// run trains one rank to the end.
func run(cfg config, env contract, log *logger, files *sync.Mutex) error {
	log.printf("trainer rank %d/%d (local %d/%s, node %s/%s) job %s run %s restart %s; master %s:%d",
		env.Rank, env.WorldSize, env.LocalRank, optional(env.LocalWorldSize), optional(env.GroupRank),
		optional(env.GroupWorldSize), env.JobID, env.RunID, optional(env.RestartCount), env.MasterAddr, env.MasterPort)
	if err := os.MkdirAll(env.CheckpointDir, 0o755); err != nil {
		return fmt.Errorf("FABRICA_CHECKPOINT_DIR: %w", err)
	}
	t := &trainer{cfg: cfg, env: env, log: log, files: files, saved: -1}
	// Rank 0 reads the checkpoint (the others may not share its filesystem) and, after
	// the rendezvous, sends it to them; a bad one aborts the whole group.
	var start []byte
	var startErr error
	if env.Rank == 0 {
		path := filepath.Join(env.CheckpointDir, checkpointFile)
		start, startErr = os.ReadFile(path)
		if errors.Is(startErr, fs.ErrNotExist) {
			start, startErr = nil, nil
		}
		if startErr == nil && start != nil {
			_, startErr = t.decodeCheckpoint(start)
		}
		if startErr != nil {
			startErr = fmt.Errorf("checkpoint %s: %w", path, startErr)
		}
	}
	fp := cfg.fingerprint()
	switch {
	case env.WorldSize == 1:
		t.red = solo{}
	case env.Rank == 0:
		ln, err := listen(env)
		if err != nil {
			return err
		}
		g, err := serve(ln, env, fp, cfg.ConnectTimeout, cfg.Timeout, log.errorf)
		if err != nil {
			return err
		}
		t.red = g
		if startErr != nil {
			g.abort(startErr)
		} else if err := g.start(start); err != nil {
			g.close()
			return err
		}
	default:
		g, s, err := join(env, fp, cfg.ConnectTimeout, cfg.Timeout)
		if err != nil {
			return err
		}
		t.red, start = g, s
	}
	defer t.red.close()
	if startErr != nil {
		return startErr
	}
	return t.train(start)
}

// decodeCheckpoint parses and checks a checkpoint against the flags.
func (t *trainer) decodeCheckpoint(b []byte) (*checkpoint, error) {
	var c checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	dim := t.cfg.Features + 1
	var err error
	switch {
	case c.FormatVersion != checkpointVersion:
		err = fmt.Errorf("format_version %d, this trainer reads %d", c.FormatVersion, checkpointVersion)
	case c.Features != t.cfg.Features || len(c.Params) != dim:
		err = fmt.Errorf("%d features and %d params, but --features is %d", c.Features, len(c.Params), t.cfg.Features)
	case c.Seed != t.cfg.Seed:
		err = fmt.Errorf("trained on --seed %d, not %d", c.Seed, t.cfg.Seed)
	case c.Step < 0:
		err = fmt.Errorf("negative step %d", c.Step)
	case c.Optimizer == nil:
		err = errors.New("no optimizer state")
	default:
		err = c.Optimizer.check(t.cfg.Optimizer, dim)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (start afresh with an empty FABRICA_CHECKPOINT_DIR)", err)
	}
	c.Optimizer.setHyper(t.cfg)
	return &c, nil
}

// train resumes from the checkpoint bytes (if any), runs the steps and writes the results.
func (t *trainer) train(start []byte) error {
	cfg, env := t.cfg, t.env
	dim := cfg.Features + 1
	t.data = makeDataset(cfg.Seed, env.Rank, cfg.SamplesPerRank, cfg.Features)
	t.batches = newBatcher(cfg.Seed, env.Rank, cfg.SamplesPerRank, cfg.Batch)
	if len(start) > 0 {
		c, err := t.decodeCheckpoint(start)
		if err != nil {
			return fmt.Errorf("checkpoint from rank 0: %w", err)
		}
		t.params, t.opt, t.step, t.initialLoss, t.saved = c.Params, c.Optimizer, c.Step, c.InitialLoss, c.Step
		t.log.printf("resumed from step %d (checkpoint of run %s, world size %d)", c.Step, c.RunID, c.WorldSize)
	} else {
		t.params = make([]float64, dim)
		t.opt = newOptimizer(cfg, dim)
		m, err := t.red.mean(kindEval, 0, []float64{fullLoss(t.params, t.data)})
		if err != nil {
			return fmt.Errorf("initial loss: %w", err)
		}
		t.initialLoss = m[0]
	}

	grad := make([]float64, dim)
	vec := make([]float64, dim+1) // the gradient, then the mini-batch loss
	first := t.step + 1
	for step := first; step <= cfg.Steps; step++ {
		if err := t.maybeFail(step); err != nil {
			return err
		}
		if cfg.SleepPerStep > 0 {
			time.Sleep(cfg.SleepPerStep)
		}
		vec[dim] = lossGrad(t.params, t.data, t.batches.indices(step), grad)
		copy(vec, grad)
		m, err := t.red.mean(kindReduce, uint64(step), vec)
		if err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		loss := m[dim]
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("training diverged at step %d (loss %v): lower --lr", step, loss)
		}
		t.opt.apply(t.params, m[:dim])
		t.step = step
		if env.Rank == 0 && (step == first || step%cfg.LogEvery == 0 || step == cfg.Steps) {
			t.log.printf("step %d loss %.4f", step, loss)
		}
		if env.Rank == 0 && cfg.CheckpointEvery > 0 && step%cfg.CheckpointEvery == 0 {
			if err := t.save(); err != nil {
				return err
			}
		}
	}
	if env.Rank == 0 && t.saved != t.step {
		if err := t.save(); err != nil {
			return err
		}
	}
	return t.finish()
}

// maybeFail injects the --fail-at-step failure.
func (t *trainer) maybeFail(step int) error {
	if t.cfg.FailAtStep != step || t.cfg.FailRank != t.env.Rank {
		return nil
	}
	if t.cfg.FailOnce {
		marker := filepath.Join(t.env.CheckpointDir, fmt.Sprintf("fail-once-rank-%d-step-%d", t.env.Rank, step))
		if _, err := os.Stat(marker); err == nil {
			return nil
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return fmt.Errorf("--fail-once marker: %w", err)
		}
	}
	return fmt.Errorf("injected failure at step %d (--fail-at-step %d --fail-rank %d)", step, step, t.env.Rank)
}

// finish averages the final loss over all shards and writes this rank's final state.
func (t *trainer) finish() error {
	m, err := t.red.mean(kindEval, uint64(t.step), []float64{fullLoss(t.params, t.data)})
	if err != nil {
		return fmt.Errorf("final loss: %w", err)
	}
	loss := m[0]
	sum := sha256.Sum256(encodeFloats(t.params))
	hash := hex.EncodeToString(sum[:])
	b, err := json.MarshalIndent(finalState{
		Rank: t.env.Rank, JobID: t.env.JobID, RunID: t.env.RunID, Step: t.step,
		Loss: loss, ParamsSHA256: hash, Params: t.params,
	}, "", "  ")
	if err != nil {
		return err
	}
	if err := t.writeFile(fmt.Sprintf("final-rank-%d.json", t.env.Rank), b); err != nil {
		return err
	}
	t.log.printf("final loss %.4f params sha256 %s", loss, hash)
	if t.env.Rank == 0 {
		t.log.printf("done: %d steps, loss %.4f → %.4f", t.step, t.initialLoss, loss)
	}
	return nil
}

// save writes the checkpoint of the current step.
func (t *trainer) save() error {
	c := checkpoint{
		FormatVersion: checkpointVersion, JobID: t.env.JobID, RunID: t.env.RunID,
		Step: t.step, WorldSize: t.env.WorldSize, Seed: t.cfg.Seed, Features: t.cfg.Features,
		InitialLoss: t.initialLoss, Params: t.params, Optimizer: t.opt,
	}
	if per := t.cfg.SamplesPerRank / t.cfg.Batch; t.step > 0 {
		c.BatchRNG.Epoch, c.BatchRNG.StepInEpoch = t.step/per, t.step%per
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint at step %d: %w", t.step, err)
	}
	if err := t.writeFile(checkpointFile, b); err != nil {
		return fmt.Errorf("checkpoint at step %d: %w", t.step, err)
	}
	t.saved = t.step
	return nil
}

// writeFile writes name in the checkpoint directory atomically: a temp file in the same
// directory, fsync, rename, fsync of the directory.
func (t *trainer) writeFile(name string, data []byte) error {
	t.files.Lock()
	defer t.files.Unlock()
	return writeAtomic(t.env.CheckpointDir, name, data)
}

func writeAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.Write(append(data, '\n'))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: some filesystems refuse fsync on directories
		d.Close()
	}
	return nil
}
