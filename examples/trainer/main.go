// Command trainer is the small, real training job that fabrica's quickstart launches: a
// data-parallel logistic-regression trainer that speaks the torchrun environment contract.
//
// Every process reads MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK and LOCAL_RANK (and
// LOCAL_WORLD_SIZE, GROUP_RANK, GROUP_WORLD_SIZE and TORCHELASTIC_RESTART_COUNT when set),
// plus FABRICA_JOB_ID, FABRICA_RUN_ID and FABRICA_CHECKPOINT_DIR. Each rank draws its own
// shard of a synthetic binary-classification data set from --seed, computes the
// cross-entropy gradient of a mini-batch every step, and the ranks average their gradients
// over TCP (a star around rank 0, which listens on MASTER_ADDR:MASTER_PORT), so that all
// apply the same SGD-with-momentum or Adam update and keep identical parameters.
//
// Rank 0 logs "step N loss X" and writes FABRICA_CHECKPOINT_DIR/checkpoint.json atomically
// every --checkpoint-every steps and at the end; a restarted group resumes from it (rank 0
// reads it and sends it to the others). At the end every rank writes final-rank-<RANK>.json
// and prints "final loss X params sha256 H"; rank 0 prints "done: N steps, loss A → B".
//
// Exit status: 0 done; 1 training failed (a peer died or hung, a bad checkpoint, an
// injected --fail-at-step failure); 2 bad flags or environment; 143 SIGTERM; 130 SIGINT.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// config holds the flags.
type config struct {
	Steps, Features, SamplesPerRank, Batch int
	Optimizer                              string
	LR, Momentum, Beta1, Beta2, Eps        float64
	Seed                                   uint64
	CheckpointEvery, LogEvery              int
	Timeout, ConnectTimeout, SleepPerStep  time.Duration
	FailAtStep, FailRank                   int
	FailOnce                               bool
}

// fingerprint names the flags that change the numbers; all ranks must agree on them.
func (c config) fingerprint() string {
	return fmt.Sprintf("steps=%d features=%d samples-per-rank=%d batch=%d optimizer=%s lr=%g momentum=%g beta1=%g beta2=%g eps=%g seed=%d",
		c.Steps, c.Features, c.SamplesPerRank, c.Batch, c.Optimizer, c.LR, c.Momentum, c.Beta1, c.Beta2, c.Eps, c.Seed)
}

// usageError is a bad flag; it exits 2 like a bad environment.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("trainer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: trainer [flags]\n\nRun under a launcher that sets the torchrun environment contract (see README.md).\n\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&c.Steps, "steps", 200, "total training steps (a resumed run continues up to this many)")
	fs.IntVar(&c.Features, "features", 16, "input features of the synthetic data set")
	fs.IntVar(&c.SamplesPerRank, "samples-per-rank", 2000, "samples in each rank's shard")
	fs.IntVar(&c.Batch, "batch", 64, "mini-batch size per rank")
	fs.StringVar(&c.Optimizer, "optimizer", "sgd", "optimizer: sgd (with --momentum) or adam")
	fs.Float64Var(&c.LR, "lr", 0.1, "learning rate")
	fs.Float64Var(&c.Momentum, "momentum", 0.9, "SGD momentum (0 for plain SGD)")
	fs.Float64Var(&c.Beta1, "beta1", 0.9, "Adam β1")
	fs.Float64Var(&c.Beta2, "beta2", 0.999, "Adam β2")
	fs.Float64Var(&c.Eps, "eps", 1e-8, "Adam ε")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the data set and of the batch order")
	fs.IntVar(&c.CheckpointEvery, "checkpoint-every", 50, "rank 0 checkpoints every this many steps (0: only at the end)")
	fs.IntVar(&c.LogEvery, "log-every", 20, "rank 0 logs the loss every this many steps")
	fs.DurationVar(&c.Timeout, "timeout", 60*time.Second, "deadline of every socket read and write")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", 60*time.Second, "how long the ranks wait for each other to connect")
	fs.DurationVar(&c.SleepPerStep, "sleep-per-step", 0, "sleep this long every step (to watch a running job)")
	fs.IntVar(&c.FailAtStep, "fail-at-step", 0, "fault injection: --fail-rank exits 1 at this step (0: never)")
	fs.IntVar(&c.FailRank, "fail-rank", 0, "fault injection: the rank that fails")
	fs.BoolVar(&c.FailOnce, "fail-once", false, "fault injection: fail only the first time (a marker file in FABRICA_CHECKPOINT_DIR remembers)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, &usageError{err.Error()}
	}
	var bad string
	switch {
	case fs.NArg() > 0:
		bad = fmt.Sprintf("unexpected arguments %q", fs.Args())
	case c.Steps < 0:
		bad = "--steps must be ≥ 0"
	case c.Features < 1:
		bad = "--features must be ≥ 1"
	case c.Batch < 1 || c.SamplesPerRank < c.Batch:
		bad = "--batch must be ≥ 1 and ≤ --samples-per-rank"
	case c.Optimizer != "sgd" && c.Optimizer != "adam":
		bad = fmt.Sprintf("--optimizer is %q, want sgd or adam", c.Optimizer)
	case !(c.LR > 0) || c.Momentum < 0 || c.Momentum >= 1 || c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1 || !(c.Eps > 0):
		bad = "want --lr > 0, --eps > 0 and --momentum, --beta1, --beta2 in [0, 1)"
	case c.CheckpointEvery < 0 || c.LogEvery < 1:
		bad = "--checkpoint-every must be ≥ 0 and --log-every ≥ 1"
	case c.Timeout <= 0 || c.ConnectTimeout <= 0 || c.SleepPerStep < 0:
		bad = "--timeout and --connect-timeout must be > 0, --sleep-per-step ≥ 0"
	case c.FailAtStep < 0 || c.FailRank < 0:
		bad = "--fail-at-step and --fail-rank must be ≥ 0"
	}
	if bad != "" {
		return c, &usageError{bad}
	}
	return c, nil
}

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitSIGINT  = 130
	exitSIGTERM = 143
)

// logger writes whole lines, unbuffered, so nothing is lost when the process exits.
type logger struct {
	mu     sync.Mutex
	out    io.Writer
	errw   io.Writer
	prefix atomic.Pointer[string] // "trainer: rank R: " once the rank is known
}

func newLogger(out, errw io.Writer) *logger {
	l := &logger{out: out, errw: errw}
	p := "trainer: "
	l.prefix.Store(&p)
	return l
}

func (l *logger) setRank(r int) {
	p := fmt.Sprintf("trainer: rank %d: ", r)
	l.prefix.Store(&p)
}

// printf logs a line to stdout.
func (l *logger) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, format+"\n", args...)
}

// errorf logs a line to stderr, prefixed with the program and rank.
func (l *logger) errorf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.errw, *l.prefix.Load()+format+"\n", args...)
}

// realMain runs the trainer and returns its exit status.
func realMain(args []string, getenv func(string) string, log *logger, files *sync.Mutex) int {
	cfg, err := parseFlags(args, log.errw)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		log.errorf("%v (see trainer -h)", err)
		return exitUsage
	}
	env, err := readContract(getenv)
	if err != nil {
		log.errorf("bad launch environment (the torchrun contract, see README.md):\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return exitUsage
	}
	log.setRank(env.Rank)
	if err := run(cfg, env, log, files); err != nil {
		log.errorf("%v", err)
		return exitFailed
	}
	return exitOK
}

func main() {
	log := newLogger(os.Stdout, os.Stderr)
	// files is held while a checkpoint or final file is written, so that a signal never
	// interrupts one half-way (the rename makes that safe anyway; this also spares the
	// temp file).
	var files sync.Mutex
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sigs
		files.Lock()
		code := exitSIGTERM
		if s == syscall.SIGINT {
			code = exitSIGINT
		}
		log.errorf("received %v, exiting with status %d", s, code)
		os.Exit(code)
	}()
	os.Exit(realMain(os.Args[1:], os.Getenv, log, &files))
}
