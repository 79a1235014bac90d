//go:build unix

package pg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
)

// TestMain lets the test binary play a second fabrica process: with
// FABRICA_PG_HELPER set it runs helperMain instead of the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("FABRICA_PG_HELPER"); mode != "" {
		helperMain(mode)
		return
	}
	os.Exit(m.Run())
}

// helperMain locks the state named by the environment and reports "locked ID". In
// "forever" mode it then records hardware.node[0], [1], ... one by one, each also
// put in its state, persisting every 50, until it is killed; with FABRICA_PG_KEY set
// the state is encrypted.
func helperMain(mode string) {
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(1)
	}
	cfg := Config{ConnString: os.Getenv("FABRICA_PG_CONN"), Schema: os.Getenv("FABRICA_PG_SCHEMA")}
	cfg.ApplicationName = helperApp(cfg.Schema)
	if key := os.Getenv("FABRICA_PG_KEY"); key != "" {
		k, err := crypt.NewKeyring(crypt.KeySource{Key: key})
		if err != nil {
			fail(err)
		}
		cfg.Crypt = k
	}
	b, err := New(context.Background(), cfg)
	if err != nil {
		fail(err)
	}
	info := states.NewLockInfo("apply")
	info.Who = "child@test"
	id, err := b.Lock(context.Background(), info)
	if err != nil {
		fail(err)
	}
	fmt.Println("locked", id)
	if mode == "forever" {
		s, err := b.Load(context.Background())
		if err != nil {
			fail(err)
		}
		j, err := b.Journal(context.Background(), s)
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
			if i%50 == 49 {
				if err := b.Persist(context.Background(), s); err != nil {
					fail(err)
				}
			}
		}
	}
	io.Copy(io.Discard, os.Stdin) // until the parent kills us or closes stdin
}

// startHelper runs the helper on schema and waits for its first line.
func startHelper(t *testing.T, schema, mode string, env ...string) (*exec.Cmd, *bufio.Reader, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "FABRICA_PG_HELPER="+mode, "FABRICA_PG_CONN="+testConn(t), "FABRICA_PG_SCHEMA="+schema)
	cmd.Env = append(cmd.Env, env...)
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

// kill kills a helper with SIGKILL and waits until PostgreSQL has ended its sessions:
// a transaction whose COMMIT was on its way commits even after the client is gone, so
// until then what a test reads could change between two queries.
func kill(t *testing.T, cmd *exec.Cmd, schema string) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n := count(t, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", helperApp(schema))
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL still has %d sessions of the killed helper after 10 s", n)
		}
	}
}

// helperApp is the application name of a helper's sessions on schema.
func helperApp(schema string) string { return "fabrica-helper-" + schema }

func TestLock_otherProcess(t *testing.T) {
	schema := newSchema(t)
	cmd, _, id := startHelper(t, schema, "lock")
	b := open(t, schema, "default")
	_, err := b.Lock(ctx, states.NewLockInfo("apply"))
	var le *states.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock while another process holds it = %v", err)
	}
	if le.Info.ID != id || le.Info.Who != "child@test" || le.Info.PID != cmd.Process.Pid {
		t.Errorf("LockedError.Info = %+v, want the child's lock %s", le.Info, id)
	}
	if n := count(t, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", helperApp(schema)); n == 0 {
		t.Fatalf("no session of the helper is named %s: kill would not wait for them", helperApp(schema))
	}
	// SIGKILL: PostgreSQL ends the session and frees the lock; the row stays, stale.
	kill(t, cmd, schema)
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	id2, err := b.Lock(wait, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock after the holder was killed = %v", err)
	}
	if err := b.Unlock(ctx, id2); err != nil {
		t.Fatal(err)
	}
}

func TestForceUnlock_killedHolder(t *testing.T) {
	schema := newSchema(t)
	cmd, _, id := startHelper(t, schema, "lock")
	kill(t, cmd, schema)
	b := open(t, schema, "default")
	if err := b.ForceUnlock(ctx, "not-"+id); err == nil || !strings.Contains(err.Error(), "the current lock id is "+id) {
		t.Errorf("ForceUnlock with a wrong id = %v", err)
	}
	if err := b.ForceUnlock(ctx, id); err != nil {
		t.Errorf("ForceUnlock = %v", err)
	}
	if n := count(t, "SELECT count(*) FROM "+schema+".locks"); n != 0 {
		t.Errorf("%d lock rows left", n)
	}
}

// TestKilledMidRun SIGKILLs a process that journals and persists in a loop, at several
// moments. Each time the state must load with an unbroken run of instances and a
// consistent serial, and a new writer must converge: record the missing instances,
// persist, and end with exactly the intended instances and a higher serial.
func TestKilledMidRun(t *testing.T) {
	for _, enc := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypted=%v", enc), func(t *testing.T) {
			var env []string
			var k *crypt.Keyring
			if enc {
				key := crypt.GenerateKey()
				env = append(env, "FABRICA_PG_KEY="+key)
				k, _ = crypt.NewKeyring(crypt.KeySource{Key: key})
			}
			for _, delay := range []time.Duration{30, 150, 400} {
				testKilledAt(t, delay*time.Millisecond, env, k)
			}
		})
	}
}

func testKilledAt(t *testing.T, delay time.Duration, env []string, k *crypt.Keyring) {
	schema := newSchema(t)
	cmd, r, _ := startHelper(t, schema, "forever", env...)
	if line, err := r.ReadString('\n'); strings.TrimSpace(line) != "started" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	time.Sleep(delay)
	kill(t, cmd, schema)
	b := open(t, schema, "default", func(c *Config) { c.Crypt = k })
	s, err := b.Load(ctx)
	if err != nil {
		t.Fatalf("Load after a kill at %v: %v", delay, err)
	}
	n := s.Len()
	for i := range n {
		if s.Get(fmt.Sprintf("hardware.node[%d]", i)) == nil {
			t.Fatalf("after a kill at %v: %d instances but hardware.node[%d] is missing", delay, n, i)
		}
	}
	// Each Persist (every 50 records) writes one serial, and the records after it
	// raise the serial once: k persists then more records is serial 2k+1; exactly
	// k persists is 2k.
	np, more := uint64(n/50), n%50 != 0
	if ok := more && s.Serial == 2*np+1 || !more && (s.Serial == 2*np || s.Serial == 2*np-1); n > 0 && !ok {
		t.Errorf("after a kill at %v: %d instances at serial %d", delay, n, s.Serial)
	}
	if rows := count(t, "SELECT count(*) FROM "+schema+".instances"); rows != n {
		t.Errorf("%d rows for %d instances", rows, n)
	}
	// A new writer converges on 1.5 times what was there, or 100.
	want := max(100, n*3/2)
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	id, err := b.Lock(lctx, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	s, _ = b.Load(ctx)
	before := s.Serial
	j, err := b.Journal(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if inst := newInstance(fmt.Sprintf("hardware.node[%d]", i)); s.Get(inst.Address) == nil {
			s.Put(inst)
			if err := j.Put(inst); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	j.Close()
	b.Unlock(ctx, id)
	got := loadFresh(t, b)
	if got.Len() != want || got.Serial <= before || !got.SameContent(s) {
		t.Errorf("after converging: %d instances (want %d), serial %d (was %d)", got.Len(), want, got.Serial, before)
	}
	t.Logf("killed after %v: %d instances at serial %d; converged to %d at serial %d", delay, n, before, want, got.Serial)
}
