package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
)

// superviseEnv makes the test binary run Supervise on its last argument.
const superviseEnv = "FABRICA_LOCAL_TEST_SUPERVISE"

func TestMain(m *testing.M) {
	if os.Getenv(superviseEnv) == "1" {
		_ = os.Unsetenv(superviseEnv)
		os.Exit(Supervise(os.Args[len(os.Args)-1]))
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	SupervisorCommand = func(jobDir string) *exec.Cmd {
		cmd := exec.Command(exe, "-test.run=^$", "supervise", jobDir)
		cmd.Env = append(os.Environ(), superviseEnv+"=1")
		return cmd
	}
	os.Exit(m.Run())
}

// newWorkDir returns a working directory whose jobs are all stopped, and checked gone,
// when the test ends.
func newWorkDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() { cleanupJobs(t, dir) })
	return dir
}

// cleanupJobs cancels every job of dir and fails the test if any process of them
// survives.
func cleanupJobs(t testing.TB, dir string) {
	jobs, err := Jobs(dir)
	if err != nil {
		t.Errorf("Jobs: %v", err)
		return
	}
	for _, info := range jobs {
		j, err := readJob(info.Dir)
		if err != nil {
			continue
		}
		if !final(info.Status) {
			if _, err := stopJob(j); err != nil {
				t.Errorf("stopping %s: %v", j.ID, err)
			}
		}
		// A supervisor exits right after writing the final status.
		for deadline := time.Now().Add(5 * time.Second); isSupervisor(readPID(j.dir), j.dir); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("the supervisor of job %s survived", j.ID)
				_ = syscall.Kill(readPID(j.dir), syscall.SIGKILL)
				break
			}
		}
		for _, pid := range jobProcesses(j.ID) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d of job %s survived", pid, j.ID)
		}
	}
}

// jobProcesses scans /proc for live processes whose environment has the job's
// FABRICA_JOB_ID (test only: the provider itself never looks processes up).
func jobProcesses(jobID string) []int {
	entries, _ := os.ReadDir("/proc")
	want := []byte("FABRICA_JOB_ID=" + jobID)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(append(env, 0), append(want, 0)) {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
				continue // a zombie is dead; its parent reaps it
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// configured returns a local provider configured on dir with a short kill grace.
func configured(t testing.TB, dir string) providers.Provider {
	t.Helper()
	p := New()
	resp := p.Configure(context.Background(), providers.ConfigureRequest{Config: json.RawMessage(`{"kill_grace":"300ms"}`), WorkDir: dir})
	if providers.HasErrors(resp.Diagnostics) {
		t.Fatalf("Configure: %v", resp.Diagnostics)
	}
	return p
}

// jobAttrs returns a job's desired attributes as the planner sends them.
func jobAttrs(t testing.TB, wait string, nodes, ppn, maxRestarts int, command ...string) providers.Attrs {
	t.Helper()
	m := map[string]any{"cluster": "training_cluster.local", "command": command, "nodes": nodes, "processes_per_node": ppn,
		"max_restarts": maxRestarts, "wait": wait, "world_size": nodes * ppn}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// planNew plans a new job and returns its planned attributes.
func planNew(t testing.TB, p providers.Provider, addr string, desired providers.Attrs) providers.Attrs {
	t.Helper()
	resp := p.Plan(context.Background(), providers.PlanRequest{Items: []providers.PlanItem{{Address: addr, Kind: Kind, Desired: desired}}})
	pc := resp.Changes[0]
	if providers.HasErrors(pc.Diagnostics) {
		t.Fatalf("Plan: %v", pc.Diagnostics)
	}
	return pc.Planned
}

// runApply sends the changes and collects every event.
func runApply(ctx context.Context, p providers.Provider, changes ...providers.Change) []providers.Event {
	in := make(chan providers.Change)
	out := make(chan providers.Event, 64)
	var events []providers.Event
	collected := make(chan struct{})
	go func() {
		for e := range out {
			events = append(events, e)
		}
		close(collected)
	}()
	go func() {
		for _, c := range changes {
			in <- c
		}
		close(in)
	}()
	_ = p.Apply(ctx, in, out)
	close(out)
	<-collected
	return events
}

// final returns the last event, checking it is the only Done or Failed one.
func lastEvent(t testing.TB, events []providers.Event) providers.Event {
	t.Helper()
	n := 0
	for _, e := range events {
		if e.Type == providers.EventDone || e.Type == providers.EventFailed {
			n++
		}
	}
	if n != 1 || len(events) == 0 {
		t.Fatalf("want exactly one final event, got %d in %+v", n, events)
	}
	return events[len(events)-1]
}

// create plans and applies a new job and returns its final event.
func create(t testing.TB, p providers.Provider, addr string, desired providers.Attrs) providers.Event {
	t.Helper()
	planned := planNew(t, p, addr, desired)
	return lastEvent(t, runApply(context.Background(), p, providers.Change{Address: addr, Kind: Kind, Action: providers.ActionCreate, Planned: planned}))
}

// attr decodes one attribute.
func attr(t testing.TB, attrs providers.Attrs, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(attrs, &m); err != nil {
		t.Fatalf("attributes %s: %v", attrs, err)
	}
	return m[name]
}

// waitFor polls cond until it holds or 10 s passed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// status reads a job's status.json.
func status(t testing.TB, dir, id string) jobStatus {
	t.Helper()
	st, err := readStatus(JobDir(dir, id))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// readLog returns a rank's log.
func readLog(t testing.TB, dir, id string, rank int) string {
	t.Helper()
	b, _ := os.ReadFile(LogPath(dir, id, rank))
	return string(b)
}

func envFile(t testing.TB, dir string, rank int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "env-"+strconv.Itoa(rank)))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}
