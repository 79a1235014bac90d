package sim

import (
	"context"
	"testing"

	"github.com/fabrica-iac/fabrica/providers"
)

const benchN = 100_000

// applyBounded applies changes with at most parallelism in flight, as fabrica apply
// --parallelism does, and returns the final events by address.
func applyBounded(b *testing.B, p providers.Provider, changes []providers.Change, parallelism int) map[string]providers.Event {
	in := make(chan providers.Change)
	out := make(chan providers.Event, parallelism)
	slots := make(chan struct{}, parallelism)
	final := make(map[string]providers.Event, len(changes))
	collected := make(chan struct{})
	go func() {
		for e := range out {
			if e.Type == providers.EventDone || e.Type == providers.EventFailed {
				final[e.Address] = e
				<-slots
			}
		}
		close(collected)
	}()
	go func() {
		for _, c := range changes {
			slots <- struct{}{}
			in <- c
		}
		close(in)
	}()
	if err := p.Apply(context.Background(), in, out); err != nil {
		b.Fatal(err)
	}
	close(out)
	<-collected
	return final
}

// BenchmarkApply100k creates 100,000 servers at zero latency, parallelism 256, then
// folds the journal into the world file.
func BenchmarkApply100k(b *testing.B) {
	changes := createHardware(benchN)
	for b.Loop() {
		b.StopTimer()
		p := configured(b, b.TempDir(), `{}`)
		b.StartTimer()
		if n := len(applyBounded(b, p, changes, 256)); n != benchN {
			b.Fatalf("%d final events", n)
		}
	}
}

// world100k applies 100,000 creates in dir and returns the read items for them.
func world100k(b *testing.B, dir string) []providers.ReadItem {
	final := applyBounded(b, configured(b, dir, `{}`), createHardware(benchN), 256)
	items := make([]providers.ReadItem, 0, benchN)
	for i := range benchN {
		e := final[addr(i)]
		items = append(items, providers.ReadItem{Address: e.Address, Kind: "hardware", ID: e.ID, PriorHash: providers.AttrsHash(e.New)})
	}
	return items
}

// BenchmarkRead100kUnchanged refreshes 100,000 unchanged servers in one batch.
func BenchmarkRead100kUnchanged(b *testing.B) {
	dir := b.TempDir()
	items := world100k(b, dir)
	p := configured(b, dir, `{}`)
	req := providers.ReadRequest{Items: items}
	for b.Loop() {
		resp := p.Read(context.Background(), req)
		if !resp.Results[benchN-1].Unchanged {
			b.Fatalf("result = %+v", resp.Results[benchN-1])
		}
	}
}

// BenchmarkPlan100k plans 100,000 unchanged servers (prior and desired) in one batch.
func BenchmarkPlan100k(b *testing.B) {
	const prior = `{"device_type":"dgx-h100","facility":"facility.dc1","id":"sim-hardware-7","rack":"r1","role":"compute","serial_number":"SIM0001","stage":"in-service"}`
	items := make([]providers.PlanItem, benchN)
	for i := range items {
		items[i] = providers.PlanItem{Address: addr(i), Kind: "hardware", ID: "sim-hardware-7", Prior: providers.Attrs(prior), Desired: hardwareAttrs("r1")}
	}
	p := New()
	req := providers.PlanRequest{Items: items}
	for b.Loop() {
		resp := p.Plan(context.Background(), req)
		if string(resp.Changes[0].Planned) != prior {
			b.Fatalf("planned = %s", resp.Changes[0].Planned)
		}
	}
}

// BenchmarkConfigure100k loads a world of 100,000 servers.
func BenchmarkConfigure100k(b *testing.B) {
	dir := b.TempDir()
	world100k(b, dir)
	for b.Loop() {
		configured(b, dir, `{}`)
	}
}

// BenchmarkDelete100k deletes 100,000 servers at zero latency, parallelism 256 (what
// fabrica destroy asks of the provider).
func BenchmarkDelete100k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		items := world100k(b, dir)
		changes := make([]providers.Change, len(items))
		for i, it := range items {
			changes[i] = providers.Change{Address: it.Address, Kind: it.Kind, Action: providers.ActionDelete, ID: it.ID}
		}
		p := configured(b, dir, `{}`)
		b.StartTimer()
		if n := len(applyBounded(b, p, changes, 256)); n != benchN {
			b.Fatalf("%d final events", n)
		}
	}
}
