// Package providertest is an in-memory provider for the planner's unit tests: a world of
// objects keyed by ID, with knobs to force replacements, failures and slow changes.
// Integration tests use the real sim provider through the plugin boundary instead.
package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
)

// Fake is an in-memory provider.
type Fake struct {
	// Kinds it implements (every kind when empty).
	Kinds []string
	// ReplaceOn lists attributes whose change forces replacement.
	ReplaceOn []string
	// FailOn makes the change of these addresses fail.
	FailOn map[string]bool
	// Sensitive is what Info declares secret, per kind.
	Sensitive map[string][]string
	// BadAttrsOn makes the change of these addresses succeed with attributes that are
	// not a JSON object (a provider bug).
	BadAttrsOn map[string]bool
	// Delay is how long each change takes.
	Delay time.Duration

	mu     sync.Mutex
	world  map[string]providers.Attrs // by ID
	byAddr map[string]string          // address → ID
	nextID int
	// Calls counts calls by method, for tests that check batching.
	Calls map[string]int
	// PlanItems counts planned items.
	PlanItems int
}

// New returns an empty fake provider.
func New() *Fake {
	return &Fake{world: map[string]providers.Attrs{}, byAddr: map[string]string{}, Calls: map[string]int{}, FailOn: map[string]bool{}, BadAttrsOn: map[string]bool{}}
}

func (f *Fake) call(name string) {
	f.mu.Lock()
	f.Calls[name]++
	f.mu.Unlock()
}

// Info describes the fake.
func (f *Fake) Info(context.Context) (providers.InfoResponse, error) {
	return providers.InfoResponse{Name: "fake", Version: "0.0.0", Kinds: f.Kinds, Sensitive: f.Sensitive}, nil
}

// Configure accepts any configuration.
func (f *Fake) Configure(context.Context, providers.ConfigureRequest) providers.ConfigureResponse {
	f.call("Configure")
	return providers.ConfigureResponse{}
}

// Read returns the world's objects.
func (f *Fake) Read(_ context.Context, req providers.ReadRequest) providers.ReadResponse {
	f.call("Read")
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := providers.ReadResponse{Results: make([]providers.ReadResult, len(req.Items))}
	for i, it := range req.Items {
		r := providers.ReadResult{Address: it.Address}
		attrs, ok := f.world[it.ID]
		switch {
		case !ok:
			r.Gone = true
		case providers.AttrsHash(attrs) == it.PriorHash:
			r.Unchanged = true
		default:
			r.Attrs, r.Hash = attrs, providers.AttrsHash(attrs)
		}
		resp.Results[i] = r
	}
	return resp
}

// Plan proposes desired plus an id (unknown on create).
func (f *Fake) Plan(_ context.Context, req providers.PlanRequest) providers.PlanResponse {
	f.call("Plan")
	f.mu.Lock()
	f.PlanItems += len(req.Items)
	f.mu.Unlock()
	resp := providers.PlanResponse{Changes: make([]providers.PlannedChange, len(req.Items))}
	for i, it := range req.Items {
		pc := providers.PlannedChange{Address: it.Address, RequiresReplace: f.ReplaceOn}
		if it.Desired != nil {
			m := decode(it.Desired)
			if it.Prior != nil {
				m["id"] = decode(it.Prior)["id"]
			} else {
				pc.Unknown = []string{"id"}
			}
			pc.Planned = encode(m)
		}
		resp.Changes[i] = pc
	}
	return resp
}

// Apply applies each change in its own goroutine.
func (f *Fake) Apply(ctx context.Context, changes <-chan providers.Change, events chan<- providers.Event) error {
	f.call("Apply")
	var wg sync.WaitGroup
	for ch := range changes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			events <- providers.Event{Address: ch.Address, Type: providers.EventStarted}
			if f.Delay > 0 {
				select {
				case <-time.After(f.Delay):
				case <-ctx.Done():
				}
			}
			events <- f.applyOne(ch)
		}()
	}
	wg.Wait()
	return nil
}

func (f *Fake) applyOne(ch providers.Change) providers.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.FailOn[ch.Address] {
		return providers.Event{Address: ch.Address, Type: providers.EventFailed, Message: "injected failure of " + ch.Address}
	}
	switch ch.Action {
	case providers.ActionDelete:
		delete(f.world, ch.ID)
		delete(f.byAddr, ch.Address)
		return providers.Event{Address: ch.Address, Type: providers.EventDone}
	default:
		id := ch.ID
		if id == "" {
			f.nextID++
			id = fmt.Sprintf("fake-%d", f.nextID)
		}
		m := decode(ch.Planned)
		m["id"] = id
		attrs := encode(m)
		f.world[id] = attrs
		f.byAddr[ch.Address] = id
		if f.BadAttrsOn[ch.Address] {
			attrs = providers.Attrs(`["not", "an", "object"]`)
		}
		return providers.Event{Address: ch.Address, Type: providers.EventDone, ID: id, New: attrs}
	}
}

// Import returns an object by ID.
func (f *Fake) Import(_ context.Context, req providers.ImportRequest) providers.ImportResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	attrs, ok := f.world[req.ID]
	if !ok {
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Object not found", "no object "+req.ID)}}
	}
	return providers.ImportResponse{Attrs: attrs}
}

// Stop does nothing; changes end on their own.
func (f *Fake) Stop(context.Context) error { return nil }

// Set changes an attribute out of band (drift).
func (f *Fake) Set(address, attr string, value any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.byAddr[address]
	m := decode(f.world[id])
	m[attr] = value
	f.world[id] = encode(m)
}

// Delete removes an object out of band.
func (f *Fake) Delete(address string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.world, f.byAddr[address])
	delete(f.byAddr, address)
}

// Len returns the number of objects in the world.
func (f *Fake) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.world)
}

// Snapshot returns a copy of the world.
func (f *Fake) Snapshot() map[string]providers.Attrs {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.world)
}

func decode(a providers.Attrs) map[string]any {
	m := map[string]any{}
	d := json.NewDecoder(bytes.NewReader(a))
	d.UseNumber()
	_ = d.Decode(&m)
	return m
}

func encode(m map[string]any) providers.Attrs {
	b, _ := json.Marshal(m)
	return b
}

// Source serves fakes by provider name.
type Source map[string]*Fake

// Start returns the fake of that name.
func (s Source) Start(_ context.Context, name string) (providers.Provider, error) {
	if f, ok := s[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("no provider named %q", name)
}
