package states

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/fabrica-iac/fabrica/schema/addrs"
)

// FormatVersion is the version of the state file format this fabrica writes and the
// newest it reads. Version 2 added each instance's sensitive_attributes; version 1
// files read as they are.
const FormatVersion = 2

// State is everything fabrica knows about the real world: one Instance per resource
// instance it manages, the root outputs, and the serial and lineage that identify this
// version of the state.
//
// Instances are indexed by address, so Get is O(1) at any size, and kept in a sorted
// order for output that is maintained lazily: a Put of a new address or a Remove costs
// O(1), and the next Addresses or Instances sorts once.
//
// A State is not safe for concurrent use; the apply walker serialises its updates.
type State struct {
	// FormatVersion is the format the state was read in; files are always written in
	// the current FormatVersion.
	FormatVersion int
	// FabricaVersion is the version of fabrica that wrote the state. Writers set it
	// before persisting.
	FabricaVersion string
	// Serial grows by one at least each time the state is persisted; a plan records the
	// serial it was made from, so apply can refuse a stale plan.
	Serial uint64
	// Lineage identifies a state across all its serials: it is set once when the state
	// is first created and never changes. Empty for a state never persisted.
	Lineage string
	// Outputs are the root module's output values, as JSON.
	Outputs map[string]json.RawMessage

	// index maps an address to its place in slots. slots holds nil where an instance
	// was removed, and is sorted by address when sorted is set.
	index  map[string]int
	slots  []*Instance
	sorted bool
	holes  int // nil entries in slots
}

// Instance is the recorded state of one resource instance.
//
// Attrs is JSON that fabrica never modifies in place: to change attributes, assign a
// new slice. States read from a file share one buffer among all their Attrs, and
// DeepCopy shares Attrs between the copies.
type Instance struct {
	// Address is the instance address, e.g. `hardware.node[3]`.
	Address string
	// Kind is the resource kind, e.g. "hardware".
	Kind string
	// Provider is the name of the provider that manages the instance.
	Provider string
	// ID is the provider's identifier of the real object.
	ID string
	// Attrs are the actual attributes, as last read or applied: a JSON object.
	Attrs json.RawMessage
	// AttrsHash is providers.AttrsHash(Attrs).
	AttrsHash string
	// ConfigHash is a hash of the desired configuration that produced the instance.
	ConfigHash string
	// Dependencies are the addresses of the instances it depends on.
	Dependencies []string
	// CreatedAt and UpdatedAt are when apply created and last changed the instance.
	CreatedAt, UpdatedAt time.Time
	// Tainted marks an instance whose creation failed part-way; the next plan replaces it.
	Tainted bool
	// Sensitive lists the attributes whose values are secrets (its provider declared
	// them so, or they derive from sensitive variables): outputs redact them.
	Sensitive []string
}

// NewState returns an empty state with serial 0 and a new lineage.
func NewState() *State {
	return &State{FormatVersion: FormatVersion, Lineage: NewLineage()}
}

// Len returns the number of instances.
func (s *State) Len() int { return len(s.index) }

// Get returns the instance at addr, or nil.
func (s *State) Get(addr string) *Instance {
	if i, ok := s.index[addr]; ok {
		return s.slots[i]
	}
	return nil
}

// Put adds inst, replacing any instance at the same address. The state keeps the
// pointer: later changes to *inst are changes to the state, but its Address must not
// change (use Move).
func (s *State) Put(inst *Instance) {
	if i, ok := s.index[inst.Address]; ok {
		s.slots[i] = inst
		return
	}
	if s.index == nil {
		s.index = make(map[string]int)
	}
	if n := len(s.slots); n == 0 {
		s.sorted = true
	} else if s.sorted && (s.slots[n-1] == nil || CompareAddresses(s.slots[n-1].Address, inst.Address) >= 0) {
		s.sorted = false
	}
	s.index[inst.Address] = len(s.slots)
	s.slots = append(s.slots, inst)
}

// Remove deletes the instance at addr. It is an error if there is none.
func (s *State) Remove(addr string) error {
	i, ok := s.index[addr]
	if !ok {
		return fmt.Errorf("no resource instance %s in the state", addr)
	}
	delete(s.index, addr)
	s.slots[i] = nil
	s.holes++
	return nil
}

// Move gives the instance at from the address to, as `state mv` does. It is an error if
// from is missing, to is taken, to is not a valid instance address, or to names another
// kind of resource.
func (s *State) Move(from, to string) error {
	inst := s.Get(from)
	if inst == nil {
		return fmt.Errorf("cannot move %s: no such resource instance in the state", from)
	}
	if from == to {
		return nil
	}
	if s.Get(to) != nil {
		return fmt.Errorf("cannot move %s to %s: %s already exists in the state", from, to, to)
	}
	dst, err := addrs.ParseInstance(to)
	if err != nil {
		return fmt.Errorf("cannot move %s: %w", from, err)
	}
	if dst.Kind != inst.Kind {
		return fmt.Errorf("cannot move %s to %s: the destination is a %s, the instance is a %s", from, to, dst.Kind, inst.Kind)
	}
	i := s.index[from]
	delete(s.index, from)
	s.index[to] = i
	inst.Address = to
	s.sorted = false
	return nil
}

// normalize removes the holes from slots and sorts it.
func (s *State) normalize() {
	if s.holes == 0 && s.sorted {
		return
	}
	if s.holes > 0 {
		s.slots = slices.DeleteFunc(s.slots, func(i *Instance) bool { return i == nil })
		s.holes = 0
	}
	if !s.sorted {
		slices.SortFunc(s.slots, func(a, b *Instance) int { return CompareAddresses(a.Address, b.Address) })
		s.sorted = true
	}
	for i, inst := range s.slots {
		s.index[inst.Address] = i
	}
}

// Addresses returns the instance addresses in sorted order (see CompareAddresses), as a
// new slice.
func (s *State) Addresses() []string {
	s.normalize()
	a := make([]string, len(s.slots))
	for i, inst := range s.slots {
		a[i] = inst.Address
	}
	return a
}

// Instances yields the instances in address order. The state must not be changed
// during the iteration.
func (s *State) Instances() iter.Seq[*Instance] {
	s.normalize()
	return func(yield func(*Instance) bool) {
		for _, inst := range s.slots {
			if !yield(inst) {
				return
			}
		}
	}
}

// DeepCopy returns a copy of s that shares nothing mutable with it. Attrs and output
// values are shared, as they are never modified in place.
func (s *State) DeepCopy() *State {
	if s == nil {
		return nil
	}
	s.normalize()
	c := &State{
		FormatVersion:  s.FormatVersion,
		FabricaVersion: s.FabricaVersion,
		Serial:         s.Serial,
		Lineage:        s.Lineage,
		Outputs:        maps.Clone(s.Outputs),
		index:          maps.Clone(s.index),
		slots:          make([]*Instance, len(s.slots)),
		sorted:         true,
	}
	slab := make([]Instance, len(s.slots))
	for i, inst := range s.slots {
		slab[i] = *inst
		slab[i].Dependencies = slices.Clone(inst.Dependencies)
		c.slots[i] = &slab[i]
	}
	return c
}

// SensitiveNames returns the instance's sensitive attribute names; nil for no instance.
func (i *Instance) SensitiveNames() []string {
	if i == nil {
		return nil
	}
	return i.Sensitive
}

// DeepCopy returns a copy of i with its own Dependencies; Attrs are shared.
func (i *Instance) DeepCopy() *Instance {
	c := *i
	c.Dependencies = slices.Clone(i.Dependencies)
	c.Sensitive = slices.Clone(i.Sensitive)
	return &c
}

// Equal reports whether two instances record the same thing. Attrs are compared byte by
// byte, which is exact for canonical JSON.
func (i *Instance) Equal(o *Instance) bool {
	return i.Address == o.Address && i.Kind == o.Kind && i.Provider == o.Provider &&
		i.ID == o.ID && bytes.Equal(i.Attrs, o.Attrs) && i.AttrsHash == o.AttrsHash &&
		i.ConfigHash == o.ConfigHash && slices.Equal(i.Dependencies, o.Dependencies) &&
		i.CreatedAt.Equal(o.CreatedAt) && i.UpdatedAt.Equal(o.UpdatedAt) && i.Tainted == o.Tainted &&
		slices.Equal(i.Sensitive, o.Sensitive)
}

// SameContent reports whether s and o hold the same instances and outputs, ignoring
// serial, lineage and versions.
func (s *State) SameContent(o *State) bool {
	if s.Len() != o.Len() || len(s.Outputs) != len(o.Outputs) {
		return false
	}
	for k, v := range s.Outputs {
		w, ok := o.Outputs[k]
		if !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	for _, i := range s.slots {
		if i == nil {
			continue
		}
		if j := o.Get(i.Address); j == nil || !i.Equal(j) {
			return false
		}
	}
	return true
}

// Builder adds instances to a new State faster than Put when they arrive in sorted
// order, as they do from a state file. It is meant for decoders.
type Builder struct {
	s *State
}

// NewBuilder returns a Builder for a state of about n instances.
func NewBuilder(n int) *Builder {
	return &Builder{s: &State{
		FormatVersion: FormatVersion,
		index:         make(map[string]int, n),
		slots:         make([]*Instance, 0, n),
		sorted:        true,
	}}
}

// Add adds inst; it reports false, and adds nothing, if the address is already taken.
func (b *Builder) Add(inst *Instance) bool {
	s := b.s
	n := len(s.slots)
	if _, dup := s.index[inst.Address]; dup {
		return false
	}
	if n > 0 && s.sorted && CompareAddresses(s.slots[n-1].Address, inst.Address) >= 0 {
		s.sorted = false
	}
	s.index[inst.Address] = n
	s.slots = append(s.slots, inst)
	return true
}

// State returns the state built. The Builder must not be used afterwards.
func (b *Builder) State() *State {
	s := b.s
	b.s = nil
	return s
}
