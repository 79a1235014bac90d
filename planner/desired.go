package planner

import (
	"bytes"
	"encoding/json"
	"sort"

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
	parallelFor(len(e.Instances), func(i int) {
		inst := e.Instances[i]
		attrs := instanceJSON(inst)
		out[i] = &Desired{
			Instance: inst, Address: inst.Address(), Provider: e.ProviderFor(inst),
			Attrs: attrs, Hash: providers.AttrsHash(attrs), Dependencies: e.resourceDeps[inst.Addr.Resource],
		}
	})
	return out
}

// instanceJSON writes an instance's non-null arguments and derived figures as one
// canonical JSON object.
func instanceJSON(inst *schema.Instance) json.RawMessage {
	spec := inst.Resource.Spec
	fields := make(map[string]cty.Value, len(spec.Attrs)+len(inst.Derived))
	for i, a := range spec.Attrs {
		if v := inst.Values[i]; v != cty.NilVal && !v.IsNull() {
			fields[a.Name] = v
		}
	}
	for k, v := range inst.Derived {
		if inst.Kind() == schema.KindFacility && facilityAggregates[k] {
			continue
		}
		if v != cty.NilVal && !v.IsNull() {
			fields[k] = v
		}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.Grow(64 * len(keys))
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, _ := json.Marshal(k)
		buf.Write(b)
		buf.WriteByte(':')
		appendJSON(&buf, fields[k])
	}
	buf.WriteByte('}')
	return buf.Bytes()
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
