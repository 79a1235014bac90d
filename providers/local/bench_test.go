package local

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
)

// BenchmarkLaunchCancel launches 100 trivial jobs at once (wait = running), refreshes
// them and cancels them, and reports the mean submit-to-running latency per job (the
// time from sending the create to its Done, which comes once every rank has started) and
// the time to cancel each.
func BenchmarkLaunchCancel(b *testing.B) {
	const jobs = 100
	dir := newWorkDir(b)
	p := configured(b, dir)
	desired := jobAttrs(b, "running", 1, 1, 0, "sleep", "30")
	var toRunning, toCancel time.Duration
	for i := 0; b.Loop(); i++ {
		changes := make([]providers.Change, jobs)
		for k := range changes {
			addr := fmt.Sprintf("training_job.bench[%d]", i*jobs+k)
			changes[k] = providers.Change{Address: addr, Kind: Kind, Action: providers.ActionCreate, Planned: planNew(b, p, addr, desired)}
		}
		created, took := applyTimed(b, p, changes)
		toRunning += took
		read := make([]providers.ReadItem, 0, jobs)
		for k, ev := range created {
			if ev.Type != providers.EventDone {
				b.Fatalf("create: %+v", ev)
			}
			read = append(read, providers.ReadItem{Address: changes[k].Address, Kind: Kind, ID: ev.ID})
			changes[k] = providers.Change{Address: changes[k].Address, Kind: Kind, Action: providers.ActionDelete, ID: ev.ID}
		}
		for _, r := range p.Read(context.Background(), providers.ReadRequest{Items: read}).Results {
			if r.Gone || len(r.Diagnostics) > 0 {
				b.Fatalf("read: %+v", r)
			}
		}
		_, took = applyTimed(b, p, changes)
		toCancel += took
	}
	n := float64(b.N) * float64(time.Millisecond)
	b.ReportMetric(float64(toRunning)/n, "ms-to-running/job")
	b.ReportMetric(float64(toCancel)/n, "ms-to-cancel/job")
}

// applyTimed applies changes at once and returns each change's final event, in order,
// and the mean time from its send to its final event.
func applyTimed(b *testing.B, p providers.Provider, changes []providers.Change) ([]providers.Event, time.Duration) {
	in := make(chan providers.Change, len(changes))
	out := make(chan providers.Event, 8*len(changes))
	idx := map[string]int{}
	sent := make([]time.Time, len(changes))
	for k, c := range changes {
		idx[c.Address] = k
		sent[k] = time.Now()
		in <- c
	}
	close(in)
	finals := make([]providers.Event, len(changes))
	var total time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for e := range out {
			if e.Type == providers.EventDone || e.Type == providers.EventFailed {
				k := idx[e.Address]
				finals[k] = e
				total += time.Since(sent[k])
			}
		}
	}()
	if err := p.Apply(context.Background(), in, out); err != nil {
		b.Fatal(err)
	}
	close(out)
	wg.Wait()
	return finals, total / time.Duration(len(changes))
}
