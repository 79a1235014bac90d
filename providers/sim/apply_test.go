package sim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fabrica-iac/fabrica/providers"
)

// TestApply_roundTrip follows one server through create, an empty plan, drift, removal.
func TestApply_roundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := configured(t, dir, `{}`)
	pc := planOne(t, p, providers.PlanItem{Address: addr(0), Kind: "hardware", Desired: hardwareAttrs("r1")})
	events, err := runApply(ctx, p, []providers.Change{{Address: addr(0), Kind: "hardware", Action: providers.ActionCreate, Planned: pc.Planned}})
	if err != nil {
		t.Fatal(err)
	}
	done := finals(t, events)[addr(0)]
	if done.Type != providers.EventDone || done.ID != "sim-hardware-1" {
		t.Fatalf("final event = %+v", done)
	}
	if got := attr(t, done.New, "stage"); got != `"in-service"` {
		t.Errorf("stage = %s", got)
	}
	if got := attr(t, done.New, "serial_number"); !strings.HasPrefix(got, `"SIM`) {
		t.Errorf("serial_number = %s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".fabrica", journalName)); !os.IsNotExist(err) {
		t.Errorf("journal left after apply: %v", err)
	}

	// A plan right after apply is empty.
	again := planOne(t, p, providers.PlanItem{Address: addr(0), Kind: "hardware", ID: done.ID, Prior: done.New, Desired: hardwareAttrs("r1")})
	if string(again.Planned) != string(done.New) || len(again.RequiresReplace)+len(again.Unknown) != 0 {
		t.Errorf("plan after apply = %+v, want planned = %s", again, done.New)
	}

	item := providers.ReadItem{Address: addr(0), Kind: "hardware", ID: done.ID, PriorHash: providers.AttrsHash(done.New)}
	read := func(p providers.Provider) providers.ReadResult {
		t.Helper()
		resp := p.Read(ctx, providers.ReadRequest{Items: []providers.ReadItem{item}})
		if len(resp.Diagnostics) > 0 || len(resp.Results) != 1 {
			t.Fatalf("Read: %+v", resp)
		}
		return resp.Results[0]
	}
	if r := read(p); !r.Unchanged || r.Attrs != nil {
		t.Errorf("Read after apply = %+v, want Unchanged", r)
	}
	if r := read(configured(t, dir, `{}`)); !r.Unchanged {
		t.Errorf("Read by a new provider = %+v, want Unchanged", r)
	}

	if err := Drift(dir, addr(0), "rack", "r9"); err != nil {
		t.Fatal(err)
	}
	r := read(p) // the same provider notices the out-of-band change
	if r.Unchanged || r.Gone || attr(t, r.Attrs, "rack") != `"r9"` || r.Hash != providers.AttrsHash(r.Attrs) {
		t.Errorf("Read after drift = %+v", r)
	}

	if err := Remove(dir, addr(0)); err != nil {
		t.Fatal(err)
	}
	if r := read(p); !r.Gone {
		t.Errorf("Read after remove = %+v, want Gone", r)
	}
}

func TestApply_hardwareStages(t *testing.T) {
	p := configured(t, t.TempDir(), `{"latency":"3ms"}`)
	events, err := runApply(context.Background(), p, createHardware(1))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, string(e.Type)+" "+e.Stage)
	}
	want := []string{"started ", "progress racked", "progress burn-in", "progress in-service", "done "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got)\n%s", diff)
	}
}

func TestApply_updateAndDelete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := configured(t, dir, `{}`)
	events, _ := runApply(ctx, p, createHardware(2))
	created := finals(t, events)
	srv := created[addr(0)]
	// Out of band the server went back to burn-in; an update of its role keeps that.
	if err := Drift(dir, addr(0), "stage", "burn-in"); err != nil {
		t.Fatal(err)
	}
	pc := planOne(t, p, providers.PlanItem{Address: addr(0), Kind: "hardware", ID: srv.ID, Prior: srv.New,
		Desired: providers.Attrs(`{"device_type":"dgx-h100","facility":"facility.dc1","rack":"r1","role":"storage"}`)})
	events, err := runApply(ctx, p, []providers.Change{
		{Address: addr(0), Kind: "hardware", Action: providers.ActionUpdate, ID: srv.ID, Prior: srv.New, Planned: pc.Planned},
		{Address: addr(1), Kind: "hardware", Action: providers.ActionDelete, ID: created[addr(1)].ID},
		{Address: "hardware.gone", Kind: "hardware", Action: providers.ActionDelete, ID: "sim-hardware-99"},
		{Address: "hardware.lost", Kind: "hardware", Action: providers.ActionUpdate, ID: "sim-hardware-98", Planned: hardwareAttrs("r1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := finals(t, events)
	if up := f[addr(0)]; up.Type != providers.EventDone || attr(t, up.New, "role") != `"storage"` || attr(t, up.New, "stage") != `"burn-in"` {
		t.Errorf("update = %+v", up)
	}
	if del := f[addr(1)]; del.Type != providers.EventDone || del.New != nil {
		t.Errorf("delete = %+v", del)
	}
	if gone := f["hardware.gone"]; gone.Type != providers.EventDone {
		t.Errorf("delete of a missing object = %+v, want done", gone)
	}
	if lost := f["hardware.lost"]; lost.Type != providers.EventFailed || !strings.Contains(lost.Message, "no longer exists") {
		t.Errorf("update of a missing object = %+v, want failed", lost)
	}
	objs, err := List(dir)
	if err != nil || len(objs) != 1 || objs[0].Address != addr(0) {
		t.Errorf("List = %+v, %v", objs, err)
	}
}

// failedSet applies n creates in a fresh world with the given config and returns the
// addresses that failed, in address order.
func failedSet(t *testing.T, cfg string, n int) []string {
	t.Helper()
	p := configured(t, t.TempDir(), cfg)
	events, err := runApply(context.Background(), p, createHardware(n))
	if err != nil {
		t.Fatal(err)
	}
	f := finals(t, events)
	var failed []string
	for i := range n {
		if e := f[addr(i)]; e.Type == providers.EventFailed {
			failed = append(failed, e.Address)
			if want := "simulated failure of " + addr(i) + " during burn-in (failure_rate 0.3)"; e.Message != want {
				t.Errorf("message = %q, want %q", e.Message, want)
			}
		}
	}
	return failed
}

func TestApply_failureRateIsDeterministic(t *testing.T) {
	const n = 200
	a := failedSet(t, `{"failure_rate":0.3,"seed":42}`, n)
	b := failedSet(t, `{"failure_rate":0.3,"seed":42}`, n)
	c := failedSet(t, `{"failure_rate":0.3,"seed":43}`, n)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different failures (-first +second)\n%s", diff)
	}
	if cmp.Equal(a, c) {
		t.Errorf("seeds 42 and 43 fail the same changes")
	}
	if len(a) < n/5 || len(a) > n*2/5 {
		t.Errorf("%d of %d failed at failure_rate 0.3", len(a), n)
	}
}

func TestApply_rerunDrawsAnew(t *testing.T) {
	dir := t.TempDir()
	p := configured(t, dir, `{"failure_rate":0.5,"seed":1}`)
	changes := createHardware(64)
	for round := 0; round < 20 && len(changes) > 0; round++ {
		events, err := runApply(context.Background(), p, changes)
		if err != nil {
			t.Fatal(err)
		}
		f := finals(t, events)
		var retry []providers.Change
		for _, c := range changes {
			if f[c.Address].Type == providers.EventFailed {
				retry = append(retry, c)
			}
		}
		changes = retry
	}
	if len(changes) > 0 {
		t.Fatalf("%d changes still fail after 20 applies", len(changes))
	}
	if objs, _ := List(dir); len(objs) != 64 {
		t.Errorf("world has %d objects, want 64", len(objs))
	}
}

// inFlight starts an Apply of one slow change, waits for its Started event, calls
// interrupt, and returns the change's final event.
func inFlight(t *testing.T, ctx context.Context, p providers.Provider, interrupt func()) providers.Event {
	t.Helper()
	in := make(chan providers.Change, 1)
	out := make(chan providers.Event)
	in <- providers.Change{Address: "facility.dc1", Kind: "facility", Action: providers.ActionCreate, Planned: providers.Attrs(`{}`)}
	close(in)
	errc := make(chan error, 1)
	go func() { errc <- p.Apply(ctx, in, out) }()
	if e := <-out; e.Type != providers.EventStarted {
		t.Fatalf("first event = %+v", e)
	}
	interrupt()
	final := <-out
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return final
}

func TestApply_stop(t *testing.T) {
	p := configured(t, t.TempDir(), `{"latency":"1h"}`)
	e := inFlight(t, context.Background(), p, func() { p.Stop(context.Background()) })
	if e.Type != providers.EventFailed || e.Message != "stopped" {
		t.Errorf("final event = %+v, want failed: stopped", e)
	}
	// Changes sent after Stop fail at once.
	events, _ := runApply(context.Background(), p, createHardware(2))
	for a, e := range finals(t, events) {
		if e.Type != providers.EventFailed || e.Message != "stopped" {
			t.Errorf("%s: %+v, want failed: stopped", a, e)
		}
	}
}

func TestApply_cancel(t *testing.T) {
	p := configured(t, t.TempDir(), `{"latency":"1h"}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := inFlight(t, ctx, p, cancel)
	if e.Type != providers.EventFailed || e.Message != "cancelled: context canceled" {
		t.Errorf("final event = %+v", e)
	}
}

func TestApply_unsupportedKind(t *testing.T) {
	p := configured(t, t.TempDir(), `{}`)
	events, _ := runApply(context.Background(), p, []providers.Change{{Address: "training_job.x", Kind: "training_job", Action: providers.ActionCreate, Planned: providers.Attrs(`{}`)}})
	if e := finals(t, events)["training_job.x"]; e.Type != providers.EventFailed || len(e.Diagnostics) != 1 {
		t.Errorf("final event = %+v", e)
	}
}

// A server is issued a BMC password at burn-in, which the provider declares sensitive
// so that fabrica redacts it everywhere but state.
func TestApply_bmcPasswordIsSensitive(t *testing.T) {
	p := configured(t, t.TempDir(), `{}`)
	info, err := p.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string][]string{"hardware": {"bmc_password"}}, info.Sensitive); d != "" {
		t.Errorf("Info sensitive (-want +got)\n%s", d)
	}
	events, err := runApply(context.Background(), p, createHardware(2))
	if err != nil {
		t.Fatal(err)
	}
	f := finals(t, events)
	a, b := attr(t, f[addr(0)].New, "bmc_password"), attr(t, f[addr(1)].New, "bmc_password")
	if len(a) != 26 || a == b { // raw JSON: 24 hex digits in quotes
		t.Errorf("bmc passwords %s and %s: want 24 hex digits, one per server", a, b)
	}
}
