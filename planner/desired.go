package planner

import (
	"bytes"
	"encoding/json"
	"sort"
	"sync"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/zclconf/go-cty/cty"
)

// Desired is one instance as the configuration wants it: its attributes (arguments and
// per-instance derived figures) as canonical JSON, their hash, its provider and the
// resources it depends on.
type Desired struct {
	Instance *schema.Instance
	Address  string
	Provider string
	Attrs    json.RawMessage
	Hash     string
	// Dependencies are the resource addresses (not instances) it depends on.
	Dependencies []string
}

// facilityAggregates are derived facility figures that depend on other resources; they
// belong to the plan's physical impact, not to the facility's own attributes, or every
// hardware change would show as a facility update.
var facilityAggregates = map[string]bool{
	"it_load_kw": true, "facility_load_kw": true, "power_headroom_kw": true,
	"annual_energy_mwh": true, "annual_co2_t": true, "racks": true, "gpus": true,
}

// DesiredInstances encodes every evaluated instance, in the evaluation's order.
func (e *Evaluated) DesiredInstances() []*Desired {
	out := make([]*Desired, len(e.Instances))
	deps := e.dependencyLists()
	parallelChunks(len(e.Instances), func(lo, hi int) {
		var prev *Desired
		for i := lo; i < hi; i++ {
			inst := e.Instances[i]
			d := &Desired{Instance: inst, Address: inst.Address(), Provider: e.ProviderFor(inst),
				Dependencies: deps[inst.Addr.Resource]}
			// The instances of a counted block usually have the same attributes: they
			// then share one copy and its hash, encoded once when the block is uniform.
			sameBlock := prev != nil && prev.Instance.Resource == inst.Resource
			if sameBlock && inst.Uniform {
				d.Attrs, d.Hash = prev.Attrs, prev.Hash
			} else if d.Attrs = instanceJSON(inst, e.hasSensitive); sameBlock && bytes.Equal(prev.Attrs, d.Attrs) {
				d.Attrs, d.Hash = prev.Attrs, prev.Hash
			} else {
				d.Hash = providers.AttrsHash(d.Attrs)
			}
			out[i], prev = d, d
		}
	})
	return out
}

// instanceJSON writes an instance's non-null arguments and derived figures as one
// canonical JSON object, walking the spec's precomputed key order.
//
// Values are only ever marked when a variable is sensitive: without one (marked false)
// the values are not walked for marks, which for a fabric's list of thousands of
// endpoints costs more than encoding it.
func instanceJSON(inst *schema.Instance, marked bool) json.RawMessage {
	order := keyOrder(inst.Resource.Spec)
	var buf bytes.Buffer
	buf.Grow(32 * len(order.keys))
	buf.WriteByte('{')
	first := true
	for _, k := range order.keys {
		var v cty.Value
		if k.attr >= 0 {
			v = inst.Values[k.attr]
		} else {
			if inst.Kind() == schema.KindFacility && facilityAggregates[k.name] {
				continue
			}
			v = inst.Derived[k.name]
		}
		if v == cty.NilVal || v.IsNull() {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.Write(k.quoted)
		switch {
		case marked:
			appendJSON(&buf, v)
		case k.attr >= 0 && v.Type().IsListType():
			// A fabric's 4,096 endpoints: their addresses are kept as strings, which
			// iterating the list would turn back into strings one index at a time.
			if strs, ok := inst.ReferenceStrings(k.name); ok && len(strs) == v.LengthInt() {
				appendStrings(&buf, strs)
			} else {
				appendUnmarked(&buf, v)
			}
		default:
			appendUnmarked(&buf, v)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// specKeys is a kind's attribute names (arguments and derived figures) in sorted order,
// with each name's JSON key prefix, built once per kind.
type specKeys struct {
	keys []specKey
}

type specKey struct {
	name   string
	quoted []byte // "name":
	attr   int    // index in Spec.Attrs, or -1 for a derived figure
}

var (
	keyOrders sync.Map // *schema.KindSpec → *specKeys
)

func keyOrder(spec *schema.KindSpec) *specKeys {
	if o, ok := keyOrders.Load(spec); ok {
		return o.(*specKeys)
	}
	o := &specKeys{}
	seen := map[string]bool{}
	for i, a := range spec.Attrs {
		o.keys = append(o.keys, specKey{name: a.Name, attr: i})
		seen[a.Name] = true
	}
	for _, d := range spec.Derived {
		if !seen[d] {
			o.keys = append(o.keys, specKey{name: d, attr: -1})
		}
	}
	sort.Slice(o.keys, func(i, j int) bool { return o.keys[i].name < o.keys[j].name })
	for i := range o.keys {
		q, _ := json.Marshal(o.keys[i].name)
		o.keys[i].quoted = append(q, ':')
	}
	keyOrders.Store(spec, o)
	return o
}

// Default providers per kind; training jobs go to their cluster's scheduler.
const defaultProvider = "sim"

// ProviderFor returns the provider that manages an instance: the provider meta-argument,
// else the job's cluster's scheduler, else sim.
func (e *Evaluated) ProviderFor(inst *schema.Instance) string {
	if p := inst.Resource.ProviderName; p != "" {
		return p
	}
	if inst.Kind() == schema.KindTrainingJob {
		if c := e.Instance(inst.Str("cluster")); c != nil {
			return c.Str("scheduler")
		}
	}
	return defaultProvider
}
