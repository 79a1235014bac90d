package pg

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/internal/pgtest"
	"github.com/fabrica-iac/fabrica/planner/states"
)

// TestServerRestart restarts PostgreSQL (scripts/pg-up.sh restart) while a run
// journals: the run's next write fails with a clear error, everything it recorded
// before is stored, nothing is half written, and a new run converges.
func TestServerRestart(t *testing.T) {
	testConn(t)
	env, _ := pgtest.Env()
	up := env["FABRICA_PG_UP"]
	if up == "" || os.Geteuid() != 0 {
		msg := "restarting PostgreSQL needs FABRICA_PG_UP from scripts/pg-up.sh's env file and root"
		if os.Getenv("FABRICA_REQUIRE_PG") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	b, id := lockedBackend(t, bigState(100))
	s, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	j, err := b.Journal(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	var returned atomic.Int64 // instances whose Put returned nil
	returned.Store(100)
	errc := make(chan error, 1)
	go func() {
		for i := 100; ; i++ {
			if err := j.Put(hardwareInstance(i, time.Now().UTC())); err != nil {
				errc <- err
				return
			}
			returned.Store(int64(i + 1))
		}
	}()
	time.Sleep(300 * time.Millisecond)
	if out, err := exec.Command(up, "restart").CombinedOutput(); err != nil {
		t.Fatalf("%s restart: %v\n%s", up, err, out)
	}
	var perr error
	select {
	case perr = <-errc:
	case <-time.After(30 * time.Second):
		t.Fatal("the journal kept writing across a server restart")
	}
	if !strings.Contains(perr.Error(), "the state lock was lost") {
		t.Errorf("Put during a restart = %v", perr)
	}
	t.Logf("Put during the restart: %v", perr)
	if err := j.Put(newInstance("hardware.after")); err == nil {
		t.Error("a Put after the failure succeeded")
	}
	if err := b.Persist(ctx, s); err == nil || !strings.Contains(err.Error(), "the state lock was lost") {
		t.Errorf("Persist after a restart = %v", err)
	}
	if err := b.Unlock(ctx, id); err != nil {
		t.Errorf("Unlock after a restart = %v", err)
	}

	got := waitLoad(t, b)
	n := got.Len()
	if int64(n) < returned.Load() || int64(n) > returned.Load()+1 {
		t.Errorf("%d instances stored; %d Puts had returned (at most one more was in flight)", n, returned.Load())
	}
	for i := range n {
		if got.Get(fmt.Sprintf("hardware.node[%d]", i)) == nil {
			t.Fatalf("hardware.node[%d] is missing of %d", i, n)
		}
	}
	if got.Serial != s.Serial+1 {
		t.Errorf("serial %d after an interrupted run on serial %d", got.Serial, s.Serial)
	}
	// A new run converges.
	c := reopen(t, b)
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	id2, err := c.Lock(lctx, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := c.Load(ctx)
	cur.Put(newInstance("hardware.after"))
	if err := c.Persist(ctx, cur); err != nil {
		t.Fatal(err)
	}
	c.Unlock(ctx, id2)
	if final := loadFresh(t, b); final.Len() != n+1 || final.Serial != got.Serial+1 {
		t.Errorf("after a new run: %d instances, serial %d", final.Len(), final.Serial)
	}
}

// waitLoad loads with a new Backend, retrying while the server comes back.
func waitLoad(t *testing.T, b *Backend) *states.State {
	t.Helper()
	var err error
	for range 100 {
		var c *Backend
		if c, err = New(ctx, Config{ConnString: b.cfg.ConnString, Schema: b.cfg.Schema, Workspace: b.ws, Crypt: b.cfg.Crypt}); err == nil {
			s, lerr := c.Load(ctx)
			c.Close()
			if lerr == nil {
				return s
			}
			err = lerr
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("Load after a restart: %v", err)
	return nil
}
