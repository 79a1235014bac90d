package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/fabrica-iac/fabrica/providers"
)

// configured returns a sim provider configured on dir with the given JSON config.
func configured(t testing.TB, dir, cfg string) providers.Provider {
	t.Helper()
	p := New()
	resp := p.Configure(context.Background(), providers.ConfigureRequest{Config: json.RawMessage(cfg), WorkDir: dir})
	if providers.HasErrors(resp.Diagnostics) {
		t.Fatalf("Configure: %v", resp.Diagnostics)
	}
	return p
}

// runApply sends every change at once and collects every event.
func runApply(ctx context.Context, p providers.Provider, changes []providers.Change) ([]providers.Event, error) {
	in := make(chan providers.Change)
	out := make(chan providers.Event, 64)
	var events []providers.Event
	collected := make(chan struct{})
	go func() {
		for e := range out {
			events = append(events, e)
		}
		close(collected)
	}()
	go func() {
		for _, c := range changes {
			in <- c
		}
		close(in)
	}()
	err := p.Apply(ctx, in, out)
	close(out)
	<-collected
	return events, err
}

// finals returns the last event of each address, checking there is exactly one Done or
// Failed event per address.
func finals(t testing.TB, events []providers.Event) map[string]providers.Event {
	t.Helper()
	m := map[string]providers.Event{}
	for _, e := range events {
		if e.Type != providers.EventDone && e.Type != providers.EventFailed {
			continue
		}
		if _, dup := m[e.Address]; dup {
			t.Fatalf("two final events for %s", e.Address)
		}
		m[e.Address] = e
	}
	return m
}

// hardwareAttrs is a server's desired attributes.
func hardwareAttrs(rack string) providers.Attrs {
	return providers.Attrs(fmt.Sprintf(`{"device_type":"dgx-h100","facility":"facility.dc1","rack":%q,"role":"compute"}`, rack))
}

// planOne plans one item and fails the test on diagnostics.
func planOne(t testing.TB, p providers.Provider, it providers.PlanItem) providers.PlannedChange {
	t.Helper()
	resp := p.Plan(context.Background(), providers.PlanRequest{Items: []providers.PlanItem{it}})
	pc := resp.Changes[0]
	if len(pc.Diagnostics) > 0 {
		t.Fatalf("Plan %s: %v", it.Address, pc.Diagnostics)
	}
	return pc
}

// attr returns one attribute of attrs as raw JSON.
func attr(t testing.TB, attrs providers.Attrs, name string) string {
	t.Helper()
	fs, err := splitObject(nil, attrs)
	if err != nil {
		t.Fatal(err)
	}
	return string(lookup(fs, name))
}

// addr is the address of the i-th server.
func addr(i int) string { return fmt.Sprintf("hardware.gpu[%d]", i) }

// createHardware returns n changes creating servers.
func createHardware(n int) []providers.Change {
	changes := make([]providers.Change, n)
	for i := range changes {
		changes[i] = providers.Change{Address: addr(i), Kind: "hardware", Action: providers.ActionCreate, Planned: hardwareAttrs("r1")}
	}
	return changes
}
