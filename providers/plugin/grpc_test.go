package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/fabrica-iac/fabrica/providers"
	pb "github.com/fabrica-iac/fabrica/providers/proto/v1"
)

// equateEmpty: the protocol does not tell a nil slice from an empty one.
var equateEmpty = cmpopts.EquateEmpty()

// connect serves impl in process over go-plugin's gRPC test connection (gRPC's default
// message limits) and returns the client side as a providers.Provider.
func connect(t testing.TB, impl providers.Provider) (providers.Provider, *goplugin.GRPCClient) {
	t.Helper()
	client, server := goplugin.TestPluginGRPCConn(t, false, goplugin.PluginSet{
		PluginName: &GRPCProviderPlugin{Impl: impl, Name: "fake"},
	})
	t.Cleanup(func() {
		// Not client.Close: it stops the server too, racing with server.Stop.
		_ = client.Conn.Close()
		server.Stop()
	})
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(providers.Provider), client
}

func TestGRPC_info(t *testing.T) {
	fake := newFake()
	p, _ := connect(t, fake)
	want, _ := fake.Info(t.Context())
	got, err := p.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Info (-want +got):\n%s", diff)
	}

	fake.infoErr = errors.New("no licence")
	_, err = p.Info(t.Context())
	if err == nil || err.Error() != `provider "fake": info: no licence` {
		t.Errorf("Info error = %v, want the provider's error naming the provider", err)
	}
}

func TestGRPC_configure(t *testing.T) {
	fake := newFake()
	p, _ := connect(t, fake)
	for _, cfg := range []string{`{}`, `{"bad":true}`, `{"bad":`} {
		req := providers.ConfigureRequest{Config: providers.Attrs(cfg), WorkDir: "/work"}
		want := fake.Configure(t.Context(), req)
		got := p.Configure(t.Context(), req)
		if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
			t.Errorf("Configure(%s) (-want +got):\n%s", cfg, diff)
		}
	}
}

// TestGRPC_read100k reads a batch several times larger than gRPC's 4 MiB message limit
// in both directions and expects exactly what the provider answers in process, in order.
func TestGRPC_read100k(t *testing.T) {
	fake := newFake()
	p, _ := connect(t, fake)
	const n = 100_000
	req := providers.ReadRequest{Items: make([]providers.ReadItem, n)}
	for i := range req.Items {
		it := providers.ReadItem{Address: fmt.Sprintf("fake_thing.t[%d]", i), Kind: "fake_thing", ID: fmt.Sprintf("i-%08d", i)}
		switch i % 7 {
		case 0:
			it.ID = ""
		case 1:
			it.PriorHash = providers.AttrsHash(actual(it.ID))
		case 2:
			it.PriorHash = strings.Repeat("0", 32) // drifted
		}
		if i == 12345 {
			it.ID = "diag"
		}
		req.Items[i] = it
	}
	want := fake.Read(t.Context(), req)
	got := p.Read(t.Context(), req)
	if len(got.Results) != n {
		t.Fatalf("got %d results, want %d; diagnostics: %v", len(got.Results), n, got.Diagnostics)
	}
	// cmp.Diff of 100,000 results takes seconds: compare by hand, diff the first mismatch.
	for i, r := range got.Results {
		if r.Address != req.Items[i].Address {
			t.Fatalf("result %d is for %s, want %s: order lost", i, r.Address, req.Items[i].Address)
		}
		w := want.Results[i]
		if r.Gone != w.Gone || r.Unchanged != w.Unchanged || r.Hash != w.Hash || !bytes.Equal(r.Attrs, w.Attrs) || !slices.Equal(r.Diagnostics, w.Diagnostics) {
			t.Fatalf("result %d (-want +got):\n%s", i, cmp.Diff(w, r, equateEmpty))
		}
	}
	if diff := cmp.Diff(want.Diagnostics, got.Diagnostics, equateEmpty); diff != "" {
		t.Errorf("Read diagnostics (-want +got):\n%s", diff)
	}
}

func TestGRPC_plan(t *testing.T) {
	fake := newFake()
	p, _ := connect(t, fake)
	req := providers.PlanRequest{Items: []providers.PlanItem{
		{Address: "a", Kind: "fake_thing", Desired: providers.Attrs(`{"zone":"a"}`)},
		{Address: "b", Kind: "fake_thing", ID: "i-b", Prior: providers.Attrs(`{"zone":"a"}`), Desired: providers.Attrs(`{"zone":"b"}`)},
		{Address: "c", Kind: "fake_thing", ID: "i-c", Prior: providers.Attrs(`{"zone":"a"}`)},
	}}
	want := providers.PlanResponse{Changes: []providers.PlannedChange{
		{Address: "a", Planned: providers.Attrs(`{"zone":"a"}`), Unknown: []string{"id"}},
		{Address: "b", Planned: providers.Attrs(`{"zone":"b"}`), RequiresReplace: []string{"zone"}},
		{Address: "c"},
	}}
	got := p.Plan(t.Context(), req)
	if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
		t.Errorf("Plan (-want +got):\n%s", diff)
	}
	if got.Changes[2].Planned != nil {
		t.Errorf("planned attributes of a delete = %q, want nil", got.Changes[2].Planned)
	}

	// A batch larger than gRPC's message limit crosses in chunks too.
	req.Items = make([]providers.PlanItem, 50_000)
	for i := range req.Items {
		req.Items[i] = providers.PlanItem{Address: fmt.Sprintf("t[%d]", i), Desired: actual(fmt.Sprint(i))}
	}
	want = fake.Plan(t.Context(), req)
	got = p.Plan(t.Context(), req)
	if len(got.Changes) != len(req.Items) {
		t.Fatalf("got %d changes for %d items; diagnostics: %v", len(got.Changes), len(req.Items), got.Diagnostics)
	}
	for i, c := range got.Changes {
		w := want.Changes[i]
		if c.Address != w.Address || !bytes.Equal(c.Planned, w.Planned) || !slices.Equal(c.Unknown, w.Unknown) {
			t.Fatalf("change %d (-want +got):\n%s", i, cmp.Diff(w, c, equateEmpty))
		}
	}
}

func TestGRPC_import(t *testing.T) {
	fake := newFake()
	p, _ := connect(t, fake)
	for _, id := range []string{"i-1", "missing"} {
		req := providers.ImportRequest{Kind: "fake_thing", ID: id}
		if diff := cmp.Diff(fake.Import(t.Context(), req), p.Import(t.Context(), req), equateEmpty); diff != "" {
			t.Errorf("Import(%s) (-want +got):\n%s", id, diff)
		}
	}
}

// applyAll runs p.Apply over changes, sending them all at once, and returns the events
// grouped by address, in the order each address got them.
func applyAll(ctx context.Context, p providers.Provider, changes []providers.Change) (map[string][]providers.Event, error) {
	in := make(chan providers.Change)
	out := make(chan providers.Event)
	go func() {
		defer close(in)
		for _, c := range changes {
			select {
			case in <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	errc := make(chan error, 1)
	go func() {
		errc <- p.Apply(ctx, in, out)
		close(out)
	}()
	got := map[string][]providers.Event{}
	for e := range out {
		got[e.Address] = append(got[e.Address], e)
	}
	return got, <-errc
}

func TestGRPC_apply(t *testing.T) {
	p, _ := connect(t, newFake())
	var changes []providers.Change
	want := map[string][]providers.Event{}
	for i := range 1000 {
		c := providers.Change{Address: fmt.Sprintf("fake_thing.t[%d]", i), Kind: "fake_thing", Action: providers.ActionCreate, Planned: actual(fmt.Sprint(i))}
		last := providers.Event{Address: c.Address, Type: providers.EventDone, ID: "id-" + c.Address, New: c.Planned}
		switch i % 10 {
		case 1:
			c.Action, c.ID, c.Prior = providers.ActionUpdate, "i-1", actual("old")
			last.ID = "i-1"
		case 2:
			c.Action, c.ID, c.Prior, c.Planned = providers.ActionDelete, "i-2", actual("old"), nil
			last.ID, last.New = "i-2", nil
		case 3:
			c.Address = fmt.Sprintf("fake_thing.fail[%d]", i)
			last = providers.Event{Address: c.Address, Type: providers.EventFailed, ID: "partial-" + c.Address, New: c.Planned,
				Diagnostics: []providers.Diagnostic{providers.Errorf("size", "Create failed", "No capacity.")}}
		}
		changes = append(changes, c)
		want[c.Address] = []providers.Event{
			{Address: c.Address, Type: providers.EventStarted},
			{Address: c.Address, Type: providers.EventProgress, Stage: "provision", Message: "provisioning " + string(c.Action)},
			last,
		}
	}
	got, err := applyAll(t.Context(), p, changes)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
		t.Errorf("Apply events (-want +got):\n%s", diff)
	}
}

func TestGRPC_applyProviderError(t *testing.T) {
	p, _ := connect(t, newFake())
	_, err := applyAll(t.Context(), p, []providers.Change{{Address: "ok", Kind: "fake_thing", Action: providers.ActionCreate}, {Address: "boom"}})
	if err == nil || err.Error() != `provider "fake": apply: backend unreachable` {
		t.Errorf("Apply error = %v, want the provider's error naming the provider", err)
	}
}

// TestGRPC_applyCancel cancels the context of a long Apply: it returns the context's
// error, and the provider sees its context canceled.
func TestGRPC_applyCancel(t *testing.T) {
	fake := newFake()
	p, _ := connect(t, fake)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in := make(chan providers.Change, 1)
	out := make(chan providers.Event)
	in <- providers.Change{Address: "slow", Kind: "fake_slow", Action: providers.ActionCreate}
	errc := make(chan error, 1)
	go func() { errc <- p.Apply(ctx, in, out) }()
	if e := <-out; e.Type != providers.EventStarted {
		t.Fatalf("first event %+v, want started", e)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `provider "fake"`) {
		t.Errorf("Apply error = %v, want context.Canceled naming the provider", err)
	}
	select {
	case <-fake.canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the provider's Apply never saw its context canceled")
	}
}

// TestGRPC_stop stops a provider with a change in flight: the change fails, and Apply
// returns once the caller closes its changes.
func TestGRPC_stop(t *testing.T) {
	p, _ := connect(t, newFake())
	in := make(chan providers.Change, 1)
	out := make(chan providers.Event)
	in <- providers.Change{Address: "slow", Kind: "fake_slow", Action: providers.ActionCreate}
	errc := make(chan error, 1)
	go func() { errc <- p.Apply(t.Context(), in, out) }()
	<-out // started
	<-out // progress
	if err := p.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	e := <-out
	want := providers.Event{Address: "slow", Type: providers.EventFailed, Diagnostics: []providers.Diagnostic{providers.Errorf("", "Stopped", "Apply was stopped.")}}
	if diff := cmp.Diff(want, e, equateEmpty); diff != "" {
		t.Errorf("event after Stop (-want +got):\n%s", diff)
	}
	close(in)
	if err := <-errc; err != nil {
		t.Errorf("Apply = %v after Stop, want nil", err)
	}
}

// TestGRPC_transportFailure: once the connection is gone, every call fails with an
// error or error diagnostic naming the provider.
func TestGRPC_transportFailure(t *testing.T) {
	p, client := connect(t, newFake())
	_ = client.Conn.Close()
	ctx := t.Context()
	if _, err := p.Info(ctx); err == nil || !strings.HasPrefix(err.Error(), `provider "fake": info: `) {
		t.Errorf("Info error = %v", err)
	}
	resp := p.Read(ctx, providers.ReadRequest{Items: []providers.ReadItem{{Address: "a"}}})
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Summary != "Provider failed" ||
		!strings.HasPrefix(resp.Diagnostics[0].Detail, `provider "fake": read: `) || !providers.HasErrors(resp.Diagnostics) {
		t.Errorf("Read diagnostics = %+v", resp.Diagnostics)
	}
	if err := p.Apply(ctx, make(chan providers.Change), make(chan providers.Event)); err == nil || !strings.HasPrefix(err.Error(), `provider "fake": apply: `) {
		t.Errorf("Apply error = %v", err)
	}
}

func TestEachChunk(t *testing.T) {
	size := func(s *string) int { return len(*s) }
	big := strings.Repeat("x", maxChunkBytes/3)
	tests := []struct {
		name  string
		items []string
		want  []int // chunk lengths
	}{
		{"none", nil, nil},
		{"one", []string{"a"}, []int{1}},
		{"count", make([]string, 2*maxChunkItems+1), []int{maxChunkItems, maxChunkItems, 1}},
		{"bytes", []string{big, big, big, big, "a"}, []int{3, 2}},
		{"huge item alone", []string{strings.Repeat("x", 2*maxChunkBytes), "a"}, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			_ = eachChunk(tt.items, size, func(c []string) error { got = append(got, len(c)); return nil })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("chunk lengths (-want +got):\n%s", diff)
			}
		})
	}
}

// shortRead is a buggy provider that answers Read with no results.
type shortRead struct{ *fakeProvider }

func (shortRead) Read(context.Context, providers.ReadRequest) providers.ReadResponse {
	return providers.ReadResponse{}
}

// TestGRPC_wrongCount goes through the exported adapters on a plain gRPC connection: a
// provider answering a batch with the wrong number of results gets an error diagnostic.
func TestGRPC_wrongCount(t *testing.T) {
	conn, server := goplugin.TestGRPCConn(t, func(s *grpc.Server) {
		pb.RegisterProviderServer(s, NewGRPCServer(shortRead{newFake()}))
	})
	t.Cleanup(func() { _ = conn.Close(); server.Stop() })
	p := NewGRPCClient("short", conn)
	resp := p.Read(t.Context(), providers.ReadRequest{Items: []providers.ReadItem{{Address: "a"}, {Address: "b"}}})
	want := []providers.Diagnostic{providers.Errorf("", "Provider returned a wrong number of results",
		`Provider "short" returned 0 results to read 2 instances; it must return one per instance, in order. This is a bug in the provider.`)}
	if diff := cmp.Diff(want, resp.Diagnostics); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
