package slurm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// cancelWait is how long a delete waits, after scancel, for Slurm to report the job
// ended (Slurm gives the processes KillWait, 30 s by default, between SIGTERM and
// SIGKILL).
const cancelWait = 90 * time.Second

// Apply carries out each change on its own goroutine. A create submits the job with
// sbatch and waits as its wait argument says; an update records wait (and the other
// in-place arguments) and waits likewise; a delete cancels the job with scancel and waits
// until Slurm reports it ended. Stop, or the end of ctx, detaches the waits: the jobs
// keep running.
func (p *provider) Apply(ctx context.Context, changes <-chan providers.Change, events chan<- providers.Event) error {
	launch.ApplyConcurrently(changes, events, func(ch providers.Change, send func(providers.Event)) providers.Event {
		return p.change(ctx, ch, send)
	})
	return nil
}

// change carries out one change and returns its Done or Failed event.
func (p *provider) change(ctx context.Context, ch providers.Change, send func(providers.Event)) providers.Event {
	workDir, cfg, c, diags := p.configured()
	if diags != nil {
		return failedDiags(diags)
	}
	if ch.Kind != Kind {
		return failedDiags([]providers.Diagnostic{unsupportedKind(ch.Kind)})
	}
	switch ch.Action {
	case providers.ActionCreate:
		return p.create(ctx, workDir, cfg, c, ch, send)
	case providers.ActionUpdate:
		return p.update(ctx, workDir, ch, send)
	case providers.ActionDelete:
		return p.cancel(ctx, workDir, c, ch)
	}
	return failed(fmt.Sprintf("the slurm provider cannot %q %s", ch.Action, ch.Address))
}

// create submits a job, or adopts the one an earlier apply submitted for the same
// address and arguments when that apply's answer was lost (fabrica was killed while
// waiting).
func (p *provider) create(ctx context.Context, workDir string, cfg config, c *cli, ch providers.Change, send func(providers.Event)) providers.Event {
	spec, diags := launch.SpecFromAttrs(ch.Planned)
	if providers.HasErrors(diags) {
		return failedDiags(diags)
	}
	if j := p.adoptable(ctx, workDir, c, ch); j != nil {
		send(providers.Event{Type: providers.EventProgress, Stage: "adopted",
			Message: fmt.Sprintf("job %s (Slurm job %s), submitted by an earlier apply, is still there", j.ID, j.SlurmID)})
		return p.await(ctx, j, spec.Wait, true, send)
	}
	if p.stop.Stopped() {
		return failed("stopped before the job was submitted")
	}
	if err := p.ping(ctx, c, true); err != nil {
		return failed(fmt.Sprintf("cannot submit the job: %v", err))
	}
	j, err := p.submit(ctx, workDir, cfg, c, ch, spec)
	if err != nil {
		ev := failed(err.Error())
		if j != nil { // Slurm may have it: state keeps it, refresh looks it up by name
			ev.ID, ev.New = j.ID, attrsOf(j, jobStatus{Status: StatusPending, Message: "submission unconfirmed: " + err.Error()})
		}
		return ev
	}
	send(providers.Event{Type: providers.EventProgress, Stage: "submitted", Message: fmt.Sprintf("job %s: Slurm job %s (%s, logs in %s)",
		j.ID, j.SlurmID, launch.Layout(j.Spec.Nodes, j.Spec.ProcsPerNode), j.dir)})
	return p.await(ctx, j, spec.Wait, false, send)
}

// submit makes the job's directory, writes the job file, the batch script and the rank
// wrapper, and submits them with sbatch. When sbatch rejects the job the directory is
// kept (for its script) but released, and the error quotes sbatch. When sbatch did not
// answer clearly, the job is looked up by name, since Slurm may have accepted it; when
// that fails too, the job is returned with the error, to be kept in state.
func (p *provider) submit(ctx context.Context, workDir string, cfg config, c *cli, ch providers.Change, spec launch.Spec) (*jobFile, error) {
	attrs, err := decodeObject(ch.Planned)
	if err != nil {
		return nil, fmt.Errorf("planned attributes: %w", err)
	}
	id, dir, err := newJobDir(workDir, ch.Address)
	if err != nil {
		return nil, fmt.Errorf("cannot make the job directory: %w", err)
	}
	spec = resolveSpec(workDir, spec)
	spec.RunID = id
	if spec.CheckpointDir == "" {
		spec.CheckpointDir = filepath.Join(dir, checkpointsDir)
	}
	j := &jobFile{FormatVersion: jobFormat, ID: id, Address: ch.Address, CreatedAt: time.Now().UTC(), Spec: spec,
		Launch: launchSummary(cfg, spec), Attrs: encodeObject(arguments(attrs)), dir: dir}
	opts := sbatchOptions(cfg, j)
	err = writeAtomic(filepath.Join(dir, scriptFile), []byte(batchScript(j, opts)), 0o755)
	if err == nil {
		err = writeAtomic(filepath.Join(dir, rankScript), []byte(rankWrapper(j)), 0o755)
	}
	if err == nil {
		err = writeJob(j)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("cannot write the job directory %s: %w", dir, err)
	}
	slurmID, err := c.sbatch(ctx, opts, filepath.Join(dir, scriptFile))
	if err != nil && isUnreachable(err) && surelyNotSubmitted(err) {
		time.Sleep(time.Second) // a busy slurmctld refused the connection: once more
		slurmID, err = c.sbatch(ctx, opts, filepath.Join(dir, scriptFile))
	}
	if err == nil {
		return p.recordSubmission(j, slurmID, cfg), nil
	}
	if !surelyNotSubmitted(err) {
		// sbatch timed out or failed oddly: Slurm may have the job. Look it up by name;
		// when even that fails, keep the job, so that refresh finds it later.
		found, lerr := c.squeue(context.WithoutCancel(ctx), "--name", []string{id})
		for sid := range found {
			return p.recordSubmission(j, sid, cfg), nil
		}
		if lerr != nil {
			return j, fmt.Errorf("cannot tell whether Slurm accepted the job: %v; then %v", err, lerr)
		}
	}
	_ = writeFinal(dir, jobStatus{Status: StatusFailed, Message: err.Error()})
	_ = release(dir)
	if isUnreachable(err) {
		return nil, fmt.Errorf("cannot submit the job: %w", err)
	}
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "sbatch: "), "sbatch: error: ")
	return nil, fmt.Errorf("sbatch rejected the job: %s (the batch script is %s)", msg, filepath.Join(dir, scriptFile))
}

// surelyNotSubmitted reports whether a failed sbatch certainly left no job: Slurm
// refused it, or sbatch never reached slurmctld.
func surelyNotSubmitted(err error) bool {
	var ce *cmdError
	if !errors.As(err, &ce) {
		return false
	}
	return strings.Contains(ce.msg, "Batch job submission failed") || strings.Contains(ce.msg, "connect failure") ||
		strings.Contains(ce.msg, "not found")
}

// recordSubmission stores Slurm's id and the rendezvous port it implies. A job file that
// cannot be rewritten is still found later by its name.
func (p *provider) recordSubmission(j *jobFile, slurmID string, cfg config) *jobFile {
	j.SlurmID, j.SubmittedAt = slurmID, time.Now().UTC()
	j.Spec.JobID, j.Spec.MasterPort = slurmID, MasterPort(slurmID)
	j.Launch = launchSummary(cfg, j.Spec)
	_ = writeJob(j)
	return j
}

// adoptable returns the newest job for the change's address that is not the one being
// replaced, was not deleted, has the planned arguments and has not failed or been
// cancelled; nil when there is none (or Slurm cannot say).
func (p *provider) adoptable(ctx context.Context, workDir string, c *cli, ch providers.Change) *jobFile {
	planned, err := decodeObject(ch.Planned)
	if err != nil {
		return nil
	}
	entries, _ := os.ReadDir(jobsRoot(workDir))
	prefix := idName(ch.Address) + "-"
	var best *jobFile
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || e.Name() == ch.Replacing {
			continue
		}
		j, err := readJob(filepath.Join(jobsRoot(workDir), e.Name()))
		if err != nil || j.Address != ch.Address || released(j.dir) || (best != nil && j.CreatedAt.Before(best.CreatedAt)) {
			continue
		}
		attrs, err := decodeObject(j.Attrs)
		if err != nil || len(launch.Relaunching(changedArgs(attrs, planned), inPlace)) > 0 {
			continue
		}
		if st, err := p.observe(ctx, c, j); err == nil && st.Status != StatusFailed && st.Status != StatusCancelled {
			best = j
		}
	}
	return best
}

// update records the planned arguments (only in-place ones can differ) and waits as the
// new wait says.
func (p *provider) update(ctx context.Context, workDir string, ch providers.Change, send func(providers.Event)) providers.Event {
	j, gone, err := load(workDir, ch.ID)
	if gone {
		return failed(fmt.Sprintf("job %s of %s no longer exists; run fabrica plan again to see it gone", ch.ID, ch.Address))
	}
	if err != nil {
		return failed(err.Error())
	}
	planned, err := decodeObject(ch.Planned)
	if err != nil {
		return failed(fmt.Sprintf("planned attributes: %v", err))
	}
	j.Attrs = encodeObject(arguments(planned))
	if err := writeJob(j); err != nil {
		return failed(fmt.Sprintf("job %s: %v", j.ID, err))
	}
	spec, _ := launch.SpecFromAttrs(ch.Planned)
	return p.await(ctx, j, spec.Wait, true, send)
}

// cancel cancels a job with scancel and waits until Slurm reports it ended, then marks it
// deleted; its directory and logs stay. A job that has finished is only marked.
func (p *provider) cancel(ctx context.Context, workDir string, c *cli, ch providers.Change) providers.Event {
	j, gone, err := load(workDir, ch.ID)
	if gone {
		return providers.Event{Type: providers.EventDone, ID: ch.ID, Message: "job " + ch.ID + " is gone already"}
	}
	if err != nil {
		return failed(err.Error())
	}
	if _, ok := readFinal(j.dir); !ok {
		if err := p.ping(ctx, c, true); err != nil {
			return failed(fmt.Sprintf("cancelling job %s: %v", j.ID, err))
		}
	}
	st, err := p.observe(ctx, c, j)
	if err != nil {
		return failed(fmt.Sprintf("cancelling job %s: %v", j.ID, err))
	}
	msg := fmt.Sprintf("job %s had already %s", j.ID, st.Status)
	if !final(st.Status) {
		if err := c.scancel(ctx, j.SlurmID); err != nil {
			return failed(fmt.Sprintf("cancelling job %s (Slurm job %s): %v", j.ID, j.SlurmID, err))
		}
		if st, err = p.awaitEnd(ctx, c, j); err != nil {
			return failed(fmt.Sprintf("cancelling job %s (Slurm job %s): %v", j.ID, j.SlurmID, err))
		}
		msg = fmt.Sprintf("job %s (Slurm job %s) %s", j.ID, j.SlurmID, st.Status)
	}
	if err := release(j.dir); err != nil {
		return failed(fmt.Sprintf("job %s: %v", j.ID, err))
	}
	return providers.Event{Type: providers.EventDone, ID: j.ID, Message: msg}
}

// awaitEnd polls until Slurm reports the job final, for at most cancelWait.
func (p *provider) awaitEnd(ctx context.Context, c *cli, j *jobFile) (jobStatus, error) {
	_, cfg, _, _ := p.configured()
	deadline := time.Now().Add(cancelWait)
	for {
		st, err := p.observe(ctx, c, j)
		if err == nil && final(st.Status) {
			return st, nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return st, err
			}
			return st, fmt.Errorf("Slurm still reports it %s %s after scancel", strings.ToLower(st.SlurmState), cancelWait)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(cfg.PollInterval):
		}
	}
}

// The change events shared with the other scheduler providers (providers/launch).
var (
	failed      = launch.Failed
	failedDiags = launch.FailedDiags
)
