package local

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// supervisor runs one job: it starts the ranks, watches them, restarts the group, and
// writes status.json on every change.
type supervisor struct {
	job  *jobFile
	dir  string
	st   jobStatus
	sigs chan os.Signal // SIGTERM or SIGINT: cancel the job
	// cancelled is set once a cancel signal arrived.
	cancelled bool
	// lastFailure describes the failure that caused the last restart.
	lastFailure string
}

// outcome is how one attempt of the group ended.
type outcome struct {
	cancelled bool
	// rank is the failing rank, -1 when every rank exited 0; code its exit code.
	rank, code int
	desc       string // "rank 1 exited with code 3"
	// startErr is set when a rank could not be started.
	startErr error
}

// Supervise runs the job in jobDir to its end and returns the process exit code (0 when
// the job succeeded or was cancelled). It is the body of the hidden command `fabrica
// provider supervise JOBDIR`, which the local provider starts detached from fabrica (see
// SupervisorCommand). SIGTERM or SIGINT cancels the job: the ranks get SIGTERM, then
// SIGKILL after the job's kill grace, and the status becomes cancelled.
func Supervise(jobDir string) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
	defer signal.Stop(sigs)
	dir := jobDir
	if abs, err := filepath.Abs(jobDir); err == nil {
		dir = abs
	}
	_ = writePID(jobDir, os.Getpid())
	job, err := readJob(jobDir)
	if err != nil {
		logf("cannot read the job: %v", err)
		_ = writeStatus(jobDir, jobStatus{Status: StatusFailed, Supervisor: os.Getpid(), Message: "cannot read the job: " + err.Error(),
			FinishedAt: now()})
		return 1
	}
	job.dir = dir
	s := &supervisor{job: job, dir: dir, sigs: sigs, st: jobStatus{Status: StatusPending, Supervisor: os.Getpid()}}
	return s.run()
}

// logf writes a line to the supervisor's log (its stderr).
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s fabrica supervisor: %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

func now() string { return time.Now().UTC().Format(timeLayout) }

// run runs attempts until one succeeds, the job is cancelled, or the restarts are spent.
func (s *supervisor) run() int {
	spec := s.job.Spec
	if len(spec.Command) == 0 || spec.WorldSize() < 1 {
		return s.finish(StatusFailed, 126, -1, "the job's spec.json has no command or no processes")
	}
	env := withoutPluginEnv(os.Environ())
	if _, ok := spec.Env["PYTHONUNBUFFERED"]; !ok {
		env = append(env, "PYTHONUNBUFFERED=1") // so the log tail shows Python output as it comes
	}
	pathEnv := os.Getenv("PATH")
	if p, ok := spec.Env["PATH"]; ok {
		pathEnv = p
	}
	prog, err := resolveCommand(spec.Command[0], spec.WorkDir, pathEnv)
	switch {
	case errors.Is(err, errNotFound):
		return s.finish(StatusFailed, 127, -1, fmt.Sprintf("command not found: %s (looked in %s and $PATH)", spec.Command[0], spec.WorkDir))
	case errors.Is(err, errNotExecutable):
		return s.finish(StatusFailed, 126, -1, fmt.Sprintf("command not executable: %s (%s has no execute permission)", spec.Command[0], prog))
	case err != nil:
		return s.finish(StatusFailed, 126, -1, fmt.Sprintf("cannot run %s: %v", spec.Command[0], err))
	}
	if fi, err := os.Stat(spec.WorkDir); err != nil || !fi.IsDir() {
		return s.finish(StatusFailed, 126, -1, fmt.Sprintf("the job's workdir %s is not a directory", spec.WorkDir))
	}
	if spec.CheckpointDir != "" {
		if err := os.MkdirAll(spec.CheckpointDir, 0o755); err != nil {
			logf("cannot make the checkpoint directory: %v", err)
		}
	}
	for restart := 0; ; restart++ {
		out := s.attempt(prog, env, restart)
		switch {
		case out.cancelled || s.pendingCancel():
			return s.finish(StatusCancelled, -1, -1, "cancelled")
		case out.startErr != nil:
			return s.finish(StatusFailed, 126, out.rank, out.startErr.Error())
		case out.rank < 0:
			return s.finish(StatusSucceeded, 0, -1, s.successMessage())
		case restart < spec.MaxRestarts:
			s.lastFailure = out.desc
			s.st.Restarts = restart + 1
			s.st.Message = fmt.Sprintf("restart %d of %d after %s", restart+1, spec.MaxRestarts, out.desc)
			logf("%s", s.st.Message)
		default:
			msg := out.desc
			switch spec.MaxRestarts {
			case 0:
			case 1:
				msg += " after 1 restart"
			default:
				msg += fmt.Sprintf(" after %d restarts", spec.MaxRestarts)
			}
			return s.finish(StatusFailed, out.code, out.rank, msg)
		}
	}
}

// successMessage is the message of a job that succeeded: empty, or how many restarts it
// took.
func (s *supervisor) successMessage() string {
	switch s.st.Restarts {
	case 0:
		return ""
	case 1:
		return "succeeded after 1 restart (after " + s.lastFailure + ")"
	}
	return fmt.Sprintf("succeeded after %d restarts (the last after %s)", s.st.Restarts, s.lastFailure)
}

// pendingCancel reports whether a cancel signal arrived (and remembers it).
func (s *supervisor) pendingCancel() bool {
	select {
	case <-s.sigs:
		s.cancelled = true
	default:
	}
	return s.cancelled
}

// finish writes the final status; code and rank are left out when negative.
func (s *supervisor) finish(status string, code, rank int, msg string) int {
	s.st.Status, s.st.Message, s.st.FinishedAt, s.st.PIDs = status, msg, now(), nil
	s.st.ExitCode, s.st.FailingRank = nil, nil
	if code >= 0 {
		s.st.ExitCode = &code
	}
	if rank >= 0 {
		s.st.FailingRank = &rank
	}
	s.write()
	logf("job %s %s%s", s.job.ID, status, strings.TrimSuffix(": "+msg, ": "))
	if status == StatusFailed {
		return 1
	}
	return 0
}

// write saves the status, logging a failure (the job goes on: status is best effort
// until the end, when a failed write is retried once).
func (s *supervisor) write() {
	if err := writeStatus(s.dir, s.st); err != nil {
		logf("cannot write the status: %v", err)
		if final(s.st.Status) {
			time.Sleep(100 * time.Millisecond)
			_ = writeStatus(s.dir, s.st)
		}
	}
}
