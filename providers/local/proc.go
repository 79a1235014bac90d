package local

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fabrica-iac/fabrica/providers/launch"
)

// SupervisorCommand returns the command that supervises the job in jobDir: by default
// this executable run as `<exe> provider supervise <jobDir>`, which must call Supervise.
// The provider starts it in a new session (setsid) with stdin from /dev/null and stdout
// and stderr to supervisor.log, so it outlives fabrica. jobDir must appear as one of its
// arguments: that is how the provider knows a pid is still this job's supervisor before
// it signals it. Tests replace it to re-execute the test binary.
var SupervisorCommand = func(jobDir string) *exec.Cmd {
	exe, err := selfExecutable()
	cmd := exec.Command(exe, "provider", "supervise", jobDir)
	if err != nil {
		cmd.Err = fmt.Errorf("cannot find the fabrica executable to run the job supervisor: %w", err)
	}
	return cmd
}

// pluginEnv are variables go-plugin sets for the provider process; the supervisor and
// the ranks do not inherit them.
var pluginEnv = map[string]bool{
	"FABRICA_PLUGIN_MAGIC_COOKIE": true, "PLUGIN_MIN_PORT": true, "PLUGIN_MAX_PORT": true,
	"PLUGIN_PROTOCOL_VERSIONS": true, "PLUGIN_CLIENT_CERT": true, "PLUGIN_MULTIPLEX_GRPC": true,
	"PLUGIN_UNIX_SOCKET_DIR": true, "PLUGIN_UNIX_SOCKET_GROUP": true,
}

func withoutPluginEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !pluginEnv[k] {
			out = append(out, kv)
		}
	}
	return out
}

// startSupervisor starts the job's supervisor, detached, and records its pid. The
// provider reaps it if it ends first; otherwise init does.
func startSupervisor(dir string) (int, error) {
	cmd := SupervisorCommand(dir)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = withoutPluginEnv(cmd.Env)
	logf, err := os.OpenFile(filepath.Join(dir, supervisorLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, logf, logf // nil stdin is /dev/null
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	go func() { _ = cmd.Wait() }()
	if err := writePID(dir, pid); err != nil {
		return pid, err
	}
	return pid, nil
}

// procFS reports whether /proc describes processes (Linux).
var procFS = func() bool {
	_, err := os.Stat("/proc/self/cmdline")
	return err == nil
}()

// isSupervisor reports whether pid is alive and is the supervisor of the job in dir:
// one of its arguments is dir. Without /proc it only checks that pid is alive.
func isSupervisor(pid int, dir string) bool {
	if pid <= 0 {
		return false
	}
	if !procFS {
		return syscall.Kill(pid, 0) == nil
	}
	path := "/proc/" + strconv.Itoa(pid) + "/cmdline"
	for try := 0; ; try++ {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		if len(b) > 0 {
			for _, arg := range bytes.Split(b, []byte{0}) {
				if string(arg) == dir {
					return true
				}
			}
			return false
		}
		// No arguments: a zombie, a kernel thread, or a process still inside execve (its
		// arguments appear a moment after exec.Cmd.Start returns).
		if zombie(pid) || try == emptyCmdlineTries {
			return false
		}
		time.Sleep(emptyCmdlineWait)
	}
}

// How long isSupervisor waits for the arguments of a process inside execve.
const (
	emptyCmdlineTries = 40
	emptyCmdlineWait  = 5 * time.Millisecond
)

// liveInGroups scans /proc for a process of one of the groups that has not exited.
func liveInGroups(pgids []int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	want := make(map[string]bool, len(pgids))
	for _, g := range pgids {
		want[strconv.Itoa(g)] = true
	}
	for _, e := range entries {
		if c := e.Name()[0]; c < '0' || c > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		i := bytes.LastIndexByte(b, ')')
		if err != nil || i < 0 || i+2 >= len(b) {
			continue
		}
		f := strings.Fields(string(b[i+2:])) // state, ppid, pgrp, ...
		if len(f) > 2 && f[0] != "Z" && f[0] != "X" && want[f[2]] {
			return true
		}
	}
	return false
}

// zombie reports whether pid has exited and waits for its parent.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')') // the command name may hold spaces and parentheses
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}

// isRank reports whether pid is alive, leads its process group and has the job's
// FABRICA_JOB_ID in its environment: a rank of that job (or, without /proc, whether it is
// alive).
func isRank(pid int, jobID string) bool {
	if pid <= 0 {
		return false
	}
	if !procFS {
		return syscall.Kill(pid, 0) == nil
	}
	pgid, err := syscall.Getpgid(pid)
	if err != nil || pgid != pid {
		return false
	}
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	want := []byte("FABRICA_JOB_ID=" + jobID)
	for _, kv := range bytes.Split(env, []byte{0}) {
		if bytes.Equal(kv, want) {
			return true
		}
	}
	return false
}

// killRanks sends sig to the process group of each pid that is still a rank of the job,
// and reports how many it signalled. It is for ranks whose supervisor is gone.
func killRanks(jobID string, pids []int, sig syscall.Signal) int {
	n := 0
	for _, pid := range pids {
		if isRank(pid, jobID) && syscall.Kill(-pid, sig) == nil {
			n++
		}
	}
	return n
}

// observe returns a job's status, having checked that a job not yet finished still has
// its supervisor: one that has not, past the startup grace, failed ("supervisor died").
// With persist the verdict is written to status.json, so it stays.
func observe(j *jobFile, persist bool) (jobStatus, error) {
	alive := isSupervisor(readPID(j.dir), j.dir)
	st, err := readStatus(j.dir) // after the liveness check: a supervisor writes its end first
	if err != nil || final(st.Status) || alive {
		return st, err
	}
	pid := readPID(j.dir)
	if pid == 0 && time.Since(j.CreatedAt) < startupGrace {
		return st, nil // being launched
	}
	st.Status = StatusFailed
	st.FinishedAt = time.Now().UTC().Format(timeLayout)
	if pid == 0 {
		st.Message = "the supervisor never started (see " + filepath.Join(j.dir, supervisorLog) + ")"
	} else {
		st.Message = fmt.Sprintf("the supervisor (pid %d) died before the job finished (see %s)", pid, filepath.Join(j.dir, supervisorLog))
	}
	if persist {
		if err := writeStatus(j.dir, st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// freePort returns a port of [BasePort, BasePort+PortRange) free on host, trying
// preferred first and skipping those in taken; failing that, one the kernel picks.
func freePort(host string, preferred int, taken func(int) bool) int {
	for i := range launch.PortRange {
		port := launch.BasePort + (preferred-launch.BasePort+i)%launch.PortRange
		if taken(port) {
			continue
		}
		if l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port))); err == nil {
			_ = l.Close()
			return port
		}
		if i >= 64 {
			break
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return preferred
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var (
	errNotFound      = errors.New("not found")
	errNotExecutable = errors.New("not executable")
)

// resolveCommand finds the program of a command: a name with a slash is a path, relative
// to dir; a bare name is looked up in dir first, then in each directory of pathEnv
// (relative ones taken from dir).
func resolveCommand(name, dir, pathEnv string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return p, executable(p)
	}
	if p := filepath.Join(dir, name); executable(p) == nil {
		return p, nil
	}
	notExec := ""
	for _, d := range filepath.SplitList(pathEnv) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, name)
		switch err := executable(p); {
		case err == nil:
			return p, nil
		case errors.Is(err, errNotExecutable) && notExec == "":
			notExec = p
		}
	}
	if notExec != "" {
		return notExec, errNotExecutable
	}
	return "", errNotFound
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return errNotExecutable
	}
	return nil
}

// selfExecutable is this program as it was invoked (a link may select fabrica in a
// multi-call binary, as in fabrica's CLI tests), else the running executable.
func selfExecutable() (string, error) {
	if p, err := exec.LookPath(os.Args[0]); err == nil {
		return filepath.Abs(p)
	}
	return os.Executable()
}
