package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cli runs the Slurm client commands (sbatch, squeue, scontrol, scancel) of one bin_dir,
// each under a timeout, so that no call can hang apply or refresh.
type cli struct {
	binDir  string   // where the commands are; "" to look them up on PATH
	env     []string // the commands' environment (also what sbatch exports to jobs)
	timeout time.Duration
	slots   chan struct{} // bounds the sbatch and scancel commands running at once (nil: no bound)
}

// maxCommands is how many sbatch and scancel commands run at once: slurmctld serves them
// one by one anyway, and a burst of 100 sbatch processes only starves the machine (and
// slurmctld, when it runs here) of CPU. Queries are not bounded: the poller runs one at a
// time, and it must not wait behind a burst of submissions.
const maxCommands = 8

// cmdError is a Slurm command that failed.
type cmdError struct {
	cmd         string // "sbatch", "squeue", ...
	msg         string // its stderr (or stdout), trimmed
	unreachable bool   // the controller did not answer
}

func (e *cmdError) Error() string {
	if e.unreachable {
		return "slurmctld is not responding: " + e.msg
	}
	return e.cmd + ": " + e.msg
}

// isUnreachable reports whether err says that slurmctld could not be reached.
func isUnreachable(err error) bool {
	var ce *cmdError
	return errors.As(err, &ce) && ce.unreachable
}

// unreachableMarks are what the Slurm commands print when the controller is down or
// does not answer.
var unreachableMarks = []string{
	"Unable to contact slurm controller", "Socket timed out", "Connection refused",
	"Zero Bytes were transmitted", "Transport endpoint is not connected", "Connection reset",
}

// path returns the command's path in bin_dir.
func (c *cli) path(name string) string {
	if c.binDir == "" {
		return name
	}
	return filepath.Join(c.binDir, name)
}

// run runs a Slurm command and returns its stdout. A command that exits non-zero, cannot
// start or outlives the timeout is a *cmdError quoting what it printed.
func (c *cli) run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if c.slots != nil && (name == "sbatch" || name == "scancel") {
		select {
		case c.slots <- struct{}{}:
			defer func() { <-c.slots }()
		case <-ctx.Done():
			return "", &cmdError{cmd: name, msg: fmt.Sprintf("%s did not start within %s: too many Slurm commands waiting", name, c.timeout), unreachable: true}
		}
	}
	cmd := exec.CommandContext(ctx, c.path(name), args...)
	cmd.Env = c.env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil || errors.Is(err, exec.ErrWaitDelay) { // exited 0; a child held its output open
		return stdout.String(), nil
	}
	msg := cleanOutput(stderr.String())
	if msg == "" {
		msg = cleanOutput(stdout.String())
	}
	ce := &cmdError{cmd: name, msg: msg}
	switch {
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist):
		where := "on PATH"
		if c.binDir != "" {
			where = "in " + c.binDir
		}
		ce.msg = fmt.Sprintf("%s not found %s; install the Slurm client commands or set bin_dir in the slurm provider block", name, where)
	case ctx.Err() == context.DeadlineExceeded:
		ce.unreachable = true
		ce.msg = fmt.Sprintf("%s did not answer within %s", name, c.timeout)
		if msg != "" {
			ce.msg += " (" + msg + ")"
		}
	case ctx.Err() != nil:
		ce.msg = fmt.Sprintf("%s was interrupted: %v", name, ctx.Err())
	default:
		if ce.msg == "" {
			ce.msg = err.Error()
		}
		for _, m := range unreachableMarks {
			if strings.Contains(msg, m) {
				ce.unreachable = true
			}
		}
	}
	return stdout.String(), ce
}

// cleanOutput joins a command's output lines, dropping blank and decoration lines
// (scontrol ping's "*****" banner).
func cleanOutput(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.Trim(l, "*") == "" || strings.HasPrefix(l, "** ") {
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "; ")
}

// ping checks that slurmctld answers (scontrol ping answers at once, where the other
// commands retry for several seconds before they give up).
func (c *cli) ping(ctx context.Context) error {
	out, err := c.run(ctx, "scontrol", "ping")
	if err != nil {
		var ce *cmdError
		if errors.As(err, &ce) && strings.Contains(ce.msg, "DOWN") {
			ce.unreachable = true
		}
		return err
	}
	if !strings.Contains(out, "UP") {
		return &cmdError{cmd: "scontrol", msg: cleanOutput(out), unreachable: true}
	}
	return nil
}

// sbatch submits script with the options and returns Slurm's job id.
func (c *cli) sbatch(ctx context.Context, opts []string, script string) (string, error) {
	args := append(append([]string{"--parsable"}, opts...), script)
	out, err := c.run(ctx, "sbatch", args...)
	if err != nil {
		return "", err
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";") // "ID" or "ID;CLUSTER"
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", &cmdError{cmd: "sbatch", msg: fmt.Sprintf("unexpected answer %q", strings.TrimSpace(out))}
	}
	return id, nil
}

// scancel cancels a job, trying again twice, a second apart, when slurmctld did not
// answer (a busy controller drops connections now and then).
func (c *cli) scancel(ctx context.Context, slurmID string) error {
	var err error
	for try := range 3 {
		if _, err = c.run(ctx, "scancel", slurmID); err == nil || !isUnreachable(err) || try == 2 {
			break
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
	return err
}

// slurmJob is one job as squeue reports it.
type slurmJob struct {
	ID, Name, State, Reason string
	// WaitStatus is the batch script's raw wait status (exit code << 8 | signal).
	WaitStatus       int
	Start, End, Node string
}

// squeueFormat are the fields queried, Name last since only it could hold a "|".
const squeueFormat = "JobID:|,State:|,exit_code:|,Reason:|,StartTime:|,EndTime:|,NodeList:|,Name:|"

// squeue reports the jobs with the given Slurm ids (by is "-j") or names ("-n") in one
// call, finished ones included; jobs Slurm does not know are missing from the map.
func (c *cli) squeue(ctx context.Context, by string, keys []string) (map[string]slurmJob, error) {
	out, err := c.run(ctx, "squeue", "--noheader", "--states=all", by, strings.Join(keys, ","), "--Format="+squeueFormat)
	var ce *cmdError
	if errors.As(err, &ce) && !ce.unreachable && strings.Contains(ce.msg, "Invalid job id") {
		return map[string]slurmJob{}, nil // none of them is known
	}
	if err != nil {
		return nil, err
	}
	return parseSqueue(out), nil
}

// parseSqueue reads squeue's output in squeueFormat, keyed by job id (by name when
// the job is looked up by name, see lookupKey).
func parseSqueue(out string) map[string]slurmJob {
	jobs := map[string]slurmJob{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.SplitN(strings.TrimSpace(line), "|", 8)
		if len(f) < 8 {
			continue
		}
		ws, _ := strconv.Atoi(strings.TrimSpace(f[2]))
		j := slurmJob{ID: strings.TrimSpace(f[0]), State: strings.TrimSpace(f[1]), WaitStatus: ws,
			Reason: strings.TrimSpace(f[3]), Start: timeField(f[4]), End: timeField(f[5]),
			Node: strings.TrimSpace(f[6]), Name: strings.TrimSuffix(strings.TrimSpace(f[7]), "|")}
		jobs[j.ID] = j
	}
	return jobs
}

// timeField converts squeue's local time (2026-11-29T06:04:08) to RFC 3339; "" when
// unset (N/A, Unknown, None).
func timeField(s string) string {
	t, err := time.ParseInLocation("2006-01-02T15:04:05", strings.TrimSpace(s), time.Local)
	if err != nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// commandEnv is the environment of the Slurm commands: this process's, without the
// variables that would change what sbatch submits or what squeue prints (SLURM_*,
// SBATCH_*, SQUEUE_*, ... but SLURM_CONF) nor go-plugin's, plus SLURM_CONF when set.
func commandEnv(base []string, slurmConf string) []string {
	out := make([]string, 0, len(base)+1)
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if k == "SLURM_CONF" && slurmConf != "" || pluginEnv[k] {
			continue
		}
		if k != "SLURM_CONF" && hasAnyPrefix(k, "SLURM_", "SBATCH_", "SALLOC_", "SRUN_", "SQUEUE_", "SCANCEL_", "SCONTROL_") {
			continue
		}
		out = append(out, kv)
	}
	if slurmConf != "" {
		out = append(out, "SLURM_CONF="+slurmConf)
	}
	return out
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// pluginEnv are variables go-plugin sets for the provider process; jobs do not inherit
// them (the same list as the local provider's).
var pluginEnv = map[string]bool{
	"FABRICA_PLUGIN_MAGIC_COOKIE": true, "PLUGIN_MIN_PORT": true, "PLUGIN_MAX_PORT": true,
	"PLUGIN_PROTOCOL_VERSIONS": true, "PLUGIN_CLIENT_CERT": true, "PLUGIN_MULTIPLEX_GRPC": true,
	"PLUGIN_UNIX_SOCKET_DIR": true, "PLUGIN_UNIX_SOCKET_GROUP": true,
}
