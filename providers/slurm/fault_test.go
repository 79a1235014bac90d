package slurm

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
)

// script runs one of the cluster scripts (slurm-up.sh, slurm-down.sh) with the cluster's
// settings.
func (c *cluster) script(t testing.TB, path string, args ...string) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "NODES="+strconv.Itoa(c.Nodes), "PARTITION="+c.Partition)
	if c.NodeCPUs > 0 {
		cmd.Env = append(cmd.Env, "NODE_CPUS="+strconv.Itoa(c.NodeCPUs))
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", path, strings.Join(args, " "), err, out)
	}
}

// stopController stops slurmctld (only it: the nodes and the running jobs go on) and
// makes sure the test leaves it running again, whatever happens.
func (c *cluster) stopController(t testing.TB) (restart func()) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("stopping slurmctld needs root")
	}
	var once sync.Once
	restart = func() { once.Do(func() { c.script(t, c.Up) }) }
	t.Cleanup(restart)
	c.script(t, c.Down, "slurmctld")
	return restart
}

// TestSlurmControllerDown stops slurmctld while a job runs and apply waits for it: Read
// and a new create fail at once with an error naming slurmctld, the wait says so and
// keeps trying, and once slurmctld is back the wait completes and Read recovers.
func TestSlurmControllerDown(t *testing.T) {
	c := slurmCluster(t)
	p, _ := c.provider(t, nil)
	addr := "training_job.outage"
	planned := planNew(t, p, addr, jobAttrs("completed", 1, 2, 0, "sh", "-c", "for i in $(seq 15); do echo tick $i; sleep 1; done"))
	events := make(chan providers.Event, 64)
	done := make(chan struct{})
	go func() {
		in := make(chan providers.Change, 1)
		in <- providers.Change{Address: addr, Kind: Kind, Action: providers.ActionCreate, Planned: planned}
		close(in)
		_ = p.Apply(context.Background(), in, events)
		close(done)
	}()
	var all []providers.Event
	next := func(what string, cond func(providers.Event) bool) { // collects events until one meets cond
		t.Helper()
		timeout := time.After(60 * time.Second)
		for {
			select {
			case e := <-events:
				all = append(all, e)
				if cond(e) {
					return
				}
			case <-timeout:
				t.Fatalf("no event for %s in %+v", what, all)
			}
		}
	}
	var id string
	next("tick 2", func(e providers.Event) bool {
		if e.Stage == "submitted" {
			id = strings.Fields(e.Message)[1]
			id = strings.TrimSuffix(id, ":")
		}
		return e.Type == providers.EventLog && e.Message == "tick 2"
	})
	restart := c.stopController(t)

	start := time.Now()
	r := p.Read(context.Background(), providers.ReadRequest{Items: []providers.ReadItem{{Address: addr, Kind: Kind, ID: id}}}).Results[0]
	if len(r.Diagnostics) != 1 || r.Diagnostics[0].Summary != "Slurm is not responding" ||
		!strings.Contains(r.Diagnostics[0].Detail, "slurmctld is not responding: Slurmctld(primary) at ") {
		t.Errorf("Read with slurmctld down = %+v", r)
	}
	ev := lastEvent(t, create(t, p, "training_job.later", jobAttrs("none", 1, 1, 0, "true")))
	if ev.Type != providers.EventFailed || ev.ID != "" || !strings.HasPrefix(ev.Message, "cannot submit the job: slurmctld is not responding") {
		t.Errorf("create with slurmctld down = %+v", ev)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Read and create with slurmctld down took %s; they should fail at once", d)
	}
	next("the outage", func(e providers.Event) bool {
		return e.Stage == "unreachable" && strings.Contains(e.Message, "slurmctld is not responding")
	})
	restart()
	next("the end", func(e providers.Event) bool { return e.Type == providers.EventDone || e.Type == providers.EventFailed })
	<-done
	if final := all[len(all)-1]; final.Type != providers.EventDone || attr(t, final.New, attrStatus) != StatusSucceeded {
		t.Fatalf("wait across the outage ended %+v (%s)", final, final.New)
	}
	if r := read(t, p, id); attr(t, r.Attrs, attrStatus) != StatusSucceeded || len(r.Diagnostics) > 0 {
		t.Errorf("Read after the outage = %+v (%s)", r, r.Attrs)
	}
}
