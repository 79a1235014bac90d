package plugin

import (
	"context"
	"fmt"
	"testing"

	"github.com/fabrica-iac/fabrica/providers"
)

// fastRead answers Read with results computed beforehand, so the benchmark measures the
// transport, not the provider.
type fastRead struct {
	*fakeProvider
	resp providers.ReadResponse
}

func (f fastRead) Read(context.Context, providers.ReadRequest) providers.ReadResponse { return f.resp }

// BenchmarkRead100k reads 100,000 instances (each about 60 bytes of attributes and a
// hash back) through the in-process gRPC connection (a Unix socket, as with a plugin
// process); ns/item is the transport's cost per instance, both ways.
func BenchmarkRead100k(b *testing.B) {
	const n = 100_000
	req := providers.ReadRequest{Items: make([]providers.ReadItem, n)}
	for i := range req.Items {
		req.Items[i] = providers.ReadItem{Address: fmt.Sprintf("fake_thing.t[%d]", i), Kind: "fake_thing", ID: fmt.Sprintf("i-%08d", i)}
	}
	fake := newFake()
	p, _ := connect(b, fastRead{fake, fake.Read(context.Background(), req)})
	ctx := context.Background()
	b.ReportAllocs()
	loops := 0
	for b.Loop() {
		if resp := p.Read(ctx, req); len(resp.Results) != n {
			b.Fatalf("%d results", len(resp.Results))
		}
		loops++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(loops*n), "ns/item")
}

// fastApply answers every change with one done event at once, so the benchmark measures
// the stream, not the provider.
type fastApply struct{ *fakeProvider }

func (fastApply) Apply(_ context.Context, changes <-chan providers.Change, events chan<- providers.Event) error {
	for c := range changes {
		events <- providers.Event{Address: c.Address, Type: providers.EventDone, ID: "id", New: c.Planned}
	}
	return nil
}

// BenchmarkApplyStream streams b.N changes through one Apply call and reports the cost
// per change (one change out, one done event with attributes back).
func BenchmarkApplyStream(b *testing.B) {
	p, _ := connect(b, fastApply{newFake()})
	planned := actual("x")
	in := make(chan providers.Change, 256)
	out := make(chan providers.Event, 256)
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for i := range b.N {
			in <- providers.Change{Address: fmt.Sprintf("fake_thing.t[%d]", i), Kind: "fake_thing", Action: providers.ActionCreate, Planned: planned}
		}
		close(in)
	}()
	errc := make(chan error, 1)
	go func() { errc <- p.Apply(context.Background(), in, out); close(out) }()
	n := 0
	for range out {
		n++
	}
	if err := <-errc; err != nil || n != b.N {
		b.Fatalf("Apply: %v, %d events for %d changes", err, n, b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/change")
}
