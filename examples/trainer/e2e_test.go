package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These tests build the trainer once and run it as separate processes on 127.0.0.1, as a
// launcher would.

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// trainerBinary builds the trainer the first time a test needs it.
func trainerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "trainer-test-"); buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(buildDir, "trainer"), ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "trainer")
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// proc is one rank's process.
type proc struct {
	rank           int
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	done           chan struct{}
	code           int
	elapsed        time.Duration
}

func (p *proc) String() string {
	return fmt.Sprintf("rank %d exit %d after %s\nstdout:\n%s\nstderr:\n%s", p.rank, p.code, p.elapsed, p.stdout.String(), p.stderr.String())
}

// launch starts world ranks of the trainer with the launch contract, sharing dir as
// FABRICA_CHECKPOINT_DIR, and kills whatever is left when the test ends.
func launch(t *testing.T, dir string, world int, args ...string) []*proc {
	t.Helper()
	bin, port := trainerBinary(t), freePort(t)
	procs := make([]*proc, world)
	for r := range world {
		p := &proc{rank: r, done: make(chan struct{})}
		p.cmd = exec.Command(bin, args...)
		p.cmd.Env = []string{
			"MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + strconv.Itoa(port),
			"WORLD_SIZE=" + strconv.Itoa(world), "RANK=" + strconv.Itoa(r),
			"LOCAL_RANK=" + strconv.Itoa(r), "LOCAL_WORLD_SIZE=" + strconv.Itoa(world),
			"GROUP_RANK=0", "GROUP_WORLD_SIZE=1",
			"FABRICA_JOB_ID=job-1", "FABRICA_RUN_ID=run-1", "FABRICA_CHECKPOINT_DIR=" + dir,
		}
		p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
		begin := time.Now()
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			p.cmd.Wait()
			p.elapsed = time.Since(begin)
			p.code = p.cmd.ProcessState.ExitCode()
			close(p.done)
		}()
		procs[r] = p
	}
	t.Cleanup(func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return procs
}

// wait waits for every rank to exit, failing the test if one takes longer than limit.
func wait(t *testing.T, procs []*proc, limit time.Duration) {
	t.Helper()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for _, p := range procs {
		select {
		case <-p.done:
		case <-timer.C:
			t.Fatalf("rank %d still running after %s (hung?)\n%s", p.rank, limit, p)
		}
	}
}

// waitOutput waits until p's stdout contains s.
func waitOutput(t *testing.T, p *proc, s string, limit time.Duration) {
	t.Helper()
	for end := time.Now().Add(limit); !strings.Contains(p.stdout.String(), s); {
		select {
		case <-p.done:
			t.Fatalf("exited before printing %q:\n%s", s, p)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(end) {
			t.Fatalf("no %q after %s:\n%s", s, limit, p)
		}
	}
}

func runOK(t *testing.T, dir string, world int, args ...string) []*proc {
	t.Helper()
	procs := launch(t, dir, world, args...)
	wait(t, procs, 60*time.Second)
	for _, p := range procs {
		if p.code != 0 {
			t.Fatalf("want exit 0:\n%s", p)
		}
	}
	return procs
}

var (
	stepRe  = regexp.MustCompile(`(?m)^step (\d+) loss (\d+\.\d{4})$`)
	finalRe = regexp.MustCompile(`(?m)^final loss (\d+\.\d{4}) params sha256 ([0-9a-f]{64})$`)
	doneRe  = regexp.MustCompile(`(?m)^done: (\d+) steps, loss (\d+\.\d{4}) → (\d+\.\d{4})$`)
)

// result checks the output and files of a finished group and returns its parameters' hash
// and rank 0's done line.
func result(t *testing.T, dir string, procs []*proc) (hash, done string) {
	t.Helper()
	var ref finalState
	for r, p := range procs {
		m := finalRe.FindStringSubmatch(p.stdout.String())
		if m == nil {
			t.Fatalf("no final line:\n%s", p)
		}
		f := readFinal(t, dir, r)
		if f.ParamsSHA256 != m[2] {
			t.Errorf("rank %d prints sha256 %s, its final file says %s", r, m[2], f.ParamsSHA256)
		}
		if r == 0 {
			ref = f
			continue
		}
		if diff := cmp.Diff(ref.Params, f.Params); diff != "" {
			t.Errorf("rank %d's final parameters differ from rank 0's (-rank 0 +rank %d):\n%s", r, r, diff)
		}
		if f.Loss != ref.Loss || f.Step != ref.Step {
			t.Errorf("rank %d ends at step %d loss %v, rank 0 at step %d loss %v", r, f.Step, f.Loss, ref.Step, ref.Loss)
		}
	}
	d := doneRe.FindString(procs[0].stdout.String())
	if d == "" {
		t.Fatalf("rank 0 printed no done line:\n%s", procs[0])
	}
	return ref.ParamsSHA256, d
}

func checkpointStep(t *testing.T, dir string) int {
	t.Helper()
	var c checkpoint
	b, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c.Step
}

// TestTrainer_lossFallsAndRanksAgree: three ranks with the default flags train, the loss
// falls and every rank ends with the same parameters.
func TestTrainer_lossFallsAndRanksAgree(t *testing.T) {
	dir := t.TempDir()
	procs := runOK(t, dir, 3)
	out := procs[0].stdout.String()
	steps := stepRe.FindAllStringSubmatch(out, -1)
	if len(steps) < 2 || steps[0][1] != "1" || steps[len(steps)-1][1] != "200" {
		t.Fatalf("want step lines from 1 to 200 in rank 0's log:\n%s", out)
	}
	first, _ := strconv.ParseFloat(steps[0][2], 64)
	last, _ := strconv.ParseFloat(steps[len(steps)-1][2], 64)
	if !(last < first) {
		t.Errorf("loss went from %v to %v", first, last)
	}
	_, done := result(t, dir, procs)
	m := doneRe.FindStringSubmatch(done)
	from, _ := strconv.ParseFloat(m[2], 64)
	to, _ := strconv.ParseFloat(m[3], 64)
	if m[1] != "200" || !(to < from-0.2) {
		t.Errorf("done line %q: want 200 steps and the full-data loss down by more than 0.2", done)
	}
	if s := checkpointStep(t, dir); s != 200 {
		t.Errorf("last checkpoint at step %d, want 200", s)
	}
	for _, p := range procs[1:] {
		if stepRe.MatchString(p.stdout.String()) {
			t.Errorf("rank %d logs steps; only rank 0 should", p.rank)
		}
	}
}

// TestTrainer_killAndResume: rank 1 dies at step 120; every rank exits non-zero promptly,
// naming it. Run again, the group resumes from the step-100 checkpoint and ends exactly
// where an uninterrupted run ends.
func TestTrainer_killAndResume(t *testing.T) {
	ref := t.TempDir()
	refHash, refDone := result(t, ref, runOK(t, ref, 3))

	dir := t.TempDir()
	procs := launch(t, dir, 3, "--fail-at-step", "120", "--fail-rank", "1")
	wait(t, procs, 10*time.Second)
	for _, p := range procs {
		if p.code == 0 {
			t.Errorf("want a non-zero exit:\n%s", p)
		}
		want := "rank 1 disconnected"
		if p.rank == 1 {
			want = "injected failure at step 120"
		}
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("want %q in stderr:\n%s", want, p)
		}
	}
	if s := checkpointStep(t, dir); s != 100 {
		t.Fatalf("checkpoint at step %d after the failure, want 100", s)
	}

	procs = runOK(t, dir, 3)
	for _, p := range procs {
		if !strings.Contains(p.stdout.String(), "resumed from step 100") {
			t.Errorf("no \"resumed from step 100\":\n%s", p)
		}
	}
	if steps := stepRe.FindStringSubmatch(procs[0].stdout.String()); steps == nil || steps[1] != "101" {
		t.Errorf("the resumed run's first step line is %q, want step 101", steps)
	}
	hash, done := result(t, dir, procs)
	if hash != refHash || done != refDone {
		t.Errorf("restarted run ends with %s %q, uninterrupted with %s %q", hash, done, refHash, refDone)
	}
}

// TestTrainer_badLaunch: a missing or invalid variable or flag exits 2 and says which.
func TestTrainer_badLaunch(t *testing.T) {
	bin := trainerBinary(t)
	base := map[string]string{
		"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500", "WORLD_SIZE": "2", "RANK": "1",
		"LOCAL_RANK": "1", "FABRICA_JOB_ID": "j", "FABRICA_RUN_ID": "r", "FABRICA_CHECKPOINT_DIR": t.TempDir(),
	}
	for _, tc := range []struct {
		unset, set, value string
		args              []string
		want              string
	}{
		{unset: "RANK", want: "environment variable RANK is not set"},
		{unset: "MASTER_ADDR", want: "environment variable MASTER_ADDR is not set"},
		{unset: "FABRICA_CHECKPOINT_DIR", want: "FABRICA_CHECKPOINT_DIR is not set"},
		{set: "WORLD_SIZE", value: "two", want: `WORLD_SIZE is "two", not an integer`},
		{set: "RANK", value: "2", want: "RANK is 2, want 0..1"},
		{args: []string{"--optimizer", "rmsprop"}, want: `--optimizer is "rmsprop"`},
	} {
		var env []string
		for k, v := range base {
			if k == tc.set {
				v = tc.value
			}
			if k != tc.unset {
				env = append(env, k+"="+v)
			}
		}
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%s%s%v: exit %d (%v), stderr %q; want exit 2 and %q", tc.unset, tc.set, tc.args, code, err, stderr.String(), tc.want)
		}
	}
}

// TestTrainer_sigterm: SIGTERM stops a rank at once with status 143; its peer notices and
// fails naming it.
func TestTrainer_sigterm(t *testing.T) {
	procs := launch(t, t.TempDir(), 2, "--steps", "100000", "--sleep-per-step", "5ms", "--log-every", "5")
	waitOutput(t, procs[0], "step 5 loss", 20*time.Second)
	procs[0].cmd.Process.Signal(syscall.SIGTERM)
	wait(t, procs, 5*time.Second)
	if p := procs[0]; p.code != 143 || !strings.Contains(p.stderr.String(), "received terminated") {
		t.Errorf("want exit 143 and a message:\n%s", p)
	}
	if p := procs[1]; p.code != 1 || !strings.Contains(p.stderr.String(), "rank 0 disconnected") {
		t.Errorf("want exit 1 naming rank 0:\n%s", p)
	}
}

// TestTrainer_hungPeer: a stopped rank is caught by the socket deadline; the others fail
// naming it instead of hanging.
func TestTrainer_hungPeer(t *testing.T) {
	procs := launch(t, t.TempDir(), 3, "--steps", "100000", "--sleep-per-step", "2ms", "--log-every", "5", "--timeout", "500ms")
	waitOutput(t, procs[0], "step 5 loss", 20*time.Second)
	procs[2].cmd.Process.Signal(syscall.SIGSTOP)
	wait(t, procs[:2], 10*time.Second)
	for _, p := range procs[:2] {
		if p.code != 1 || !strings.Contains(p.stderr.String(), "rank 2 did not answer within 500ms") {
			t.Errorf("want exit 1 naming rank 2:\n%s", p)
		}
	}
}
