//go:build unix

package local

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
)

// TestMain lets the test binary play a second fabrica process: with
// FABRICA_STATES_HELPER set it runs helperMain instead of the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("FABRICA_STATES_HELPER"); mode != "" {
		helperMain(mode, os.Getenv("FABRICA_STATES_PATH"))
		return
	}
	os.Exit(m.Run())
}

// helperMain takes the lock on path and reports "locked ID". In "journal" mode it then
// journals N records and reports "journaled". It then waits to be killed.
func helperMain(mode, path string) {
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(1)
	}
	b := New(path)
	if key := os.Getenv("FABRICA_STATES_KEY"); key != "" {
		k, err := crypt.NewKeyring(crypt.KeySource{Key: key})
		if err != nil {
			fail(err)
		}
		b.Crypt = k
	}
	info := states.NewLockInfo("apply")
	info.Who = "child@test"
	id, err := b.Lock(ctx, info)
	if err != nil {
		fail(err)
	}
	fmt.Println("locked", id)
	if mode == "journal" {
		useMmap = os.Getenv("FABRICA_STATES_NOMMAP") == ""
		n, _ := strconv.Atoi(os.Getenv("FABRICA_STATES_N"))
		s, err := b.Load(ctx)
		if err != nil {
			fail(err)
		}
		j, err := b.Journal(ctx, s)
		if err != nil {
			fail(err)
		}
		for i := range n {
			if err := j.Put(newInstance(fmt.Sprintf("hardware.node[%d]", i))); err != nil {
				fail(err)
			}
		}
		fmt.Println("journaled")
	}
	if mode == "forever" { // persist and journal until killed
		s, err := b.Load(ctx)
		if err != nil {
			fail(err)
		}
		j, err := b.Journal(ctx, s)
		if err != nil {
			fail(err)
		}
		fmt.Println("started")
		for i := 0; ; i++ {
			inst := newInstance(fmt.Sprintf("hardware.node[%d]", i))
			s.Put(inst)
			if err := j.Put(inst); err != nil {
				fail(err)
			}
			if i%50 == 0 {
				if err := b.Persist(ctx, s); err != nil {
					fail(err)
				}
			}
		}
	}
	io.Copy(io.Discard, os.Stdin) // until the parent kills us or closes stdin
}

// startHelper runs the helper and waits for its first line.
func startHelper(t *testing.T, path, mode string, n int) (*exec.Cmd, *bufio.Reader, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "FABRICA_STATES_HELPER="+mode, "FABRICA_STATES_PATH="+path,
		"FABRICA_STATES_N="+strconv.Itoa(n))
	if !useMmap {
		cmd.Env = append(cmd.Env, "FABRICA_STATES_NOMMAP=1")
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	id, ok := strings.CutPrefix(strings.TrimSpace(line), "locked ")
	if err != nil || !ok {
		t.Fatalf("helper said %q, %v", line, err)
	}
	return cmd, r, id
}

func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

func TestLock_otherProcess(t *testing.T) {
	path := t.TempDir() + "/state.json"
	cmd, _, id := startHelper(t, path, "lock", 0)

	b := New(path)
	_, err := b.Lock(ctx, states.NewLockInfo("apply"))
	var le *states.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock while another process holds it = %v", err)
	}
	if le.Info.ID != id || le.Info.Who != "child@test" || le.Info.PID != cmd.Process.Pid || le.Info.Created.IsZero() {
		t.Errorf("LockedError.Info = %+v, want the child's lock %s", le.Info, id)
	}
	for _, want := range []string{"state is locked by child@test since ", "lock id " + id, "(operation apply)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if err := b.ForceUnlock(ctx, id); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("process %d", cmd.Process.Pid)) {
		t.Errorf("ForceUnlock of a live process's lock = %v", err)
	}

	// SIGKILL: the kernel releases the flock; the info file stays but is stale.
	kill(t, cmd)
	if _, err := os.Stat(b.infoPath()); err != nil {
		t.Errorf("expected the killed holder's info to remain: %v", err)
	}
	id2, err := b.Lock(ctx, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock after the holder was killed = %v", err)
	}
	if err := b.Unlock(ctx, id2); err != nil {
		t.Fatal(err)
	}
}

func TestForceUnlock_killedHolder(t *testing.T) {
	path := t.TempDir() + "/state.json"
	cmd, _, id := startHelper(t, path, "lock", 0)
	kill(t, cmd)
	if err := New(path).ForceUnlock(ctx, "not-"+id); err == nil || !strings.Contains(err.Error(), "the current lock id is "+id) {
		t.Errorf("ForceUnlock with a wrong id = %v", err)
	}
	if err := New(path).ForceUnlock(ctx, id); err != nil {
		t.Errorf("ForceUnlock = %v", err)
	}
}

// TestJournal_sigkill kills a process right after its journal Puts returned: every
// record must be there.
func TestJournal_sigkill(t *testing.T) { bothSinks(t, testJournalSigkill) }

func testJournalSigkill(t *testing.T) {
	const n = 500
	path := t.TempDir() + "/state.json"
	cmd, r, _ := startHelper(t, path, "journal", n)
	if line, err := r.ReadString('\n'); strings.TrimSpace(line) != "journaled" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	kill(t, cmd)
	s, err := New(path).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != n || s.Serial != 1 || s.Lineage == "" {
		t.Errorf("after SIGKILL: %d instances (want %d), serial %d, lineage %q", s.Len(), n, s.Serial, s.Lineage)
	}
}

// TestKilledMidRun kills a process that persists and journals in a loop, at several
// moments: the state must always load, and hold an unbroken run of instances.
func TestKilledMidRun(t *testing.T) { bothSinks(t, testKilledMidRun) }

func testKilledMidRun(t *testing.T) {
	for _, delay := range []time.Duration{5, 20, 60} {
		path := t.TempDir() + "/state.json"
		cmd, r, _ := startHelper(t, path, "forever", 0)
		if line, err := r.ReadString('\n'); strings.TrimSpace(line) != "started" {
			t.Fatalf("helper said %q, %v", line, err)
		}
		time.Sleep(delay * time.Millisecond)
		kill(t, cmd)
		s, err := New(path).Load(ctx)
		if err != nil {
			t.Fatalf("Load after a kill at %v ms: %v", delay, err)
		}
		for i := range s.Len() {
			if s.Get(fmt.Sprintf("hardware.node[%d]", i)) == nil {
				t.Fatalf("after a kill at %v ms: %d instances but hardware.node[%d] is missing", delay, s.Len(), i)
			}
		}
		t.Logf("killed after %v ms: %d instances, serial %d", delay, s.Len(), s.Serial)
	}
}

// TestJournal_sigkillEncrypted is TestJournal_sigkill with an encrypted journal.
func TestJournal_sigkillEncrypted(t *testing.T) {
	bothSinks(t, func(t *testing.T) {
		const n = 300
		key := crypt.GenerateKey()
		t.Setenv("FABRICA_STATES_KEY", key)
		path := t.TempDir() + "/state.json"
		cmd, r, _ := startHelper(t, path, "journal", n)
		if line, err := r.ReadString('\n'); strings.TrimSpace(line) != "journaled" {
			t.Fatalf("helper said %q, %v", line, err)
		}
		kill(t, cmd)
		b := New(path)
		b.Crypt, _ = crypt.NewKeyring(crypt.KeySource{Key: key})
		s, err := b.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() != n || s.Serial != 1 {
			t.Errorf("after SIGKILL: %d instances (want %d), serial %d", s.Len(), n, s.Serial)
		}
		if _, err := New(path).Load(ctx); !errors.Is(err, crypt.ErrNoKey) {
			t.Errorf("Load without the key = %v", err)
		}
	})
}
