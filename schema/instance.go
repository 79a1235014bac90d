package schema

import (
	"math"
	"math/big"
	"sync"

	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Instance is one evaluated resource instance: its arguments as cty values (reference
// arguments hold instance addresses as strings) and the figures derived from them.
type Instance struct {
	Addr     addrs.Instance
	address  string // Addr as a string, when made by NewInstance
	Resource *Resource
	// Values holds the arguments by position in Resource.Spec.Attrs; a nested block is an
	// object value, or null when absent.
	Values []cty.Value
	// Derived holds the read-only figures by name (see KindSpec.Derived).
	Derived map[string]cty.Value
	// derivedNums holds numbers of Derived as float64s, where known (see figures).
	derivedNums map[string]float64

	// strs caches Strings: a fabric's endpoint list is read by several derivations
	// and checks, and reading a cty list allocates per element.
	strsMu sync.Mutex
	strs   map[string][]string
	// refs holds, for some of strs, the instances they name (see KeepStrings).
	refs map[string][]*Instance
	// Each is the for_each value of this instance (cty.NilVal otherwise).
	Each cty.Value
	// Sensitive lists the arguments whose values derive from sensitive variables; they
	// are redacted wherever a plan is shown.
	Sensitive []string
	// Uniform is set when no argument of the instance's block reads count or each:
	// every instance of the block then has the same arguments and derived figures
	// (derivations read only those, and other instances).
	Uniform bool
}

// Kind returns the instance's resource kind.
func (i *Instance) Kind() string { return i.Addr.Kind }

// Address returns the instance's address as a string.
func (i *Instance) Address() string {
	if i.address != "" {
		return i.address
	}
	return i.Addr.String()
}

// NewInstance returns an instance of res with the given key, its address string made
// once: it is a map key, a reference value and a plan's address, read many times.
func NewInstance(res *Resource, key addrs.Key, each cty.Value) *Instance {
	addr := res.Addr.Instance(key)
	return &Instance{Addr: addr, address: addr.String(), Resource: res, Each: each}
}

// Figure returns a number argument or, failing that, a derived figure.
func (i *Instance) Figure(name string) float64 {
	if idx := i.Resource.Spec.Index(name); idx >= 0 {
		return asNumber(i.Values[idx])
	}
	return i.DerivedNum(name)
}

// Get returns an argument's value (null when unset and without default).
func (i *Instance) Get(name string) cty.Value {
	idx := i.Resource.Spec.Index(name)
	if idx < 0 || i.Values[idx] == cty.NilVal {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return i.Values[idx]
}

// Range returns the source range of an argument (or the block when it was not set).
func (i *Instance) Range(name string) hcl.Range { return i.Resource.Body.Range(name) }

// Str returns a string argument, or "" when null.
func (i *Instance) Str(name string) string { return asString(i.Get(name)) }

// Num returns a number argument, or 0 when null.
func (i *Instance) Num(name string) float64 { return asNumber(i.Get(name)) }

// Int returns a whole-number argument, or 0 when null.
func (i *Instance) Int(name string) int { return int(asNumber(i.Get(name))) }

// Bool returns a bool argument, or false when null.
func (i *Instance) Bool(name string) bool { return asBool(i.Get(name)) }

// IsSet reports whether an argument has a non-null value.
func (i *Instance) IsSet(name string) bool { return !i.Get(name).IsNull() }

// Strings returns a list-of-strings argument. The slice is shared: do not modify it.
func (i *Instance) Strings(name string) []string {
	i.strsMu.Lock()
	defer i.strsMu.Unlock()
	if s, ok := i.strs[name]; ok {
		return s
	}
	s := asStrings(i.Get(name))
	if i.strs == nil {
		i.strs = map[string][]string{}
	}
	i.strs[name] = s
	return s
}

// KeepStrings records what Strings(name) returns, when the caller has it already: a
// fabric's endpoint list, read back from its cty value, costs an allocation per element.
// strs must be the argument's elements, and is shared: it must not be modified.
// insts, when not nil, are the instances the elements name, in the same order (what
// References returns), and are shared too.
func (i *Instance) KeepStrings(name string, strs []string, insts []*Instance) {
	i.strsMu.Lock()
	defer i.strsMu.Unlock()
	if i.strs == nil {
		i.strs = map[string][]string{}
	}
	i.strs[name] = strs
	if insts != nil {
		if i.refs == nil {
			i.refs = map[string][]*Instance{}
		}
		i.refs[name] = insts
	}
}

// ReferenceStrings returns the addresses of a list-of-references argument when
// KeepStrings recorded them with the instances they name, the list's elements in
// order; ok is false otherwise.
func (i *Instance) ReferenceStrings(name string) (strs []string, ok bool) {
	i.strsMu.Lock()
	defer i.strsMu.Unlock()
	if _, named := i.refs[name]; !named {
		return nil, false
	}
	strs, ok = i.strs[name]
	return strs, ok
}

// References returns a list-of-references argument as addresses and the instances
// they name (nil for an address l does not know), in the same order: from what
// KeepStrings recorded, else by looking each address up. The slices are shared.
func (i *Instance) References(name string, l Lookup) ([]string, []*Instance) {
	strs := i.Strings(name)
	i.strsMu.Lock()
	insts, ok := i.refs[name]
	i.strsMu.Unlock()
	if ok {
		return strs, insts
	}
	insts = make([]*Instance, len(strs))
	for k, a := range strs {
		insts[k] = l.Instance(a)
	}
	return strs, insts
}

// Block returns a nested block's value as a BlockValue (IsSet false when absent).
func (i *Instance) Block(name string) BlockValue {
	idx := i.Resource.Spec.Index(name)
	bv := BlockValue{Value: cty.NullVal(cty.DynamicPseudoType)}
	if idx >= 0 && i.Values[idx] != cty.NilVal {
		bv.Value = i.Values[idx]
	}
	if nb := i.Resource.Body.Blocks[name]; nb != nil {
		bv.Body = nb.Body
	}
	return bv
}

// DerivedNum returns a derived number, or 0.
func (i *Instance) DerivedNum(name string) float64 {
	if f, ok := i.derivedNums[name]; ok {
		return f
	}
	return asNumber(i.Derived[name])
}

// BlockValue is an evaluated nested block.
type BlockValue struct {
	Value cty.Value
	Body  *BodyContent
}

// IsSet reports whether the block was written.
func (b BlockValue) IsSet() bool { return !b.Value.IsNull() }

// Get returns an argument of the block (null when absent).
func (b BlockValue) Get(name string) cty.Value {
	if b.Value.IsNull() || !b.Value.Type().IsObjectType() || !b.Value.Type().HasAttribute(name) {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return b.Value.GetAttr(name)
}

// Num returns a number argument of the block, or 0.
func (b BlockValue) Num(name string) float64 { return asNumber(b.Get(name)) }

// Int returns a whole-number argument of the block, or 0.
func (b BlockValue) Int(name string) int { return int(asNumber(b.Get(name))) }

// Str returns a string argument of the block, or "".
func (b BlockValue) Str(name string) string { return asString(b.Get(name)) }

// Range returns the argument's range, falling back to the block's.
func (b BlockValue) Range(name string) hcl.Range { return b.Body.Range(name) }

func asString(v cty.Value) string {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

func asNumber(v cty.Value) float64 {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || v.Type() != cty.Number {
		return 0
	}
	f, _ := v.AsBigFloat().Float64()
	return f
}

func asBool(v cty.Value) bool {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		return false
	}
	return v.True()
}

func asStrings(v cty.Value) []string {
	if v.IsNull() || !v.IsKnown() || !(v.Type().IsListType() || v.Type().IsSetType() || v.Type().IsTupleType()) {
		return nil
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, asString(e))
	}
	return out
}

// NumberVal is a float64 as a cty number, rounded to 4 decimals so derived figures print
// and compare cleanly.
func NumberVal(f float64) cty.Value {
	return cty.NumberVal(new(big.Float).SetFloat64(roundTo(f, 4)))
}

func roundTo(f float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(f*p) / p
}
