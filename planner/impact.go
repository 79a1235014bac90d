package planner

import (
	"encoding/json"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/schema"
)

// impact works out each facility's figures before and after the plan. After is the
// configuration's aggregate; before is after with every changed instance's new record
// taken away and its old record added back, so only changed instances are read.
func impact(ev *Evaluated, p *plans.Plan, prior *states.State) []*plans.FacilityImpact {
	var before, after *schema.Aggregator
	if p.Mode == plans.ModeDestroy {
		before, after = schema.NewAggregator(), schema.NewAggregator()
		for inst := range prior.Instances() {
			before.Add(newJSONRecord(inst.Address, inst.Kind, inst.Attrs), 1)
		}
	} else {
		after = ev.Aggregates
		if prior.Len() == 0 && len(p.ResourceChanges) == len(ev.Instances) {
			// Nothing exists yet and every instance is created: nothing was there
			// before, which is what subtracting each one from after gives (100,000
			// times).
			before = schema.NewAggregator()
		} else {
			before = beforeBySubtraction(ev, p)
		}
	}
	b, a := index(before.Summaries()), index(after.Summaries())
	var out []*plans.FacilityImpact
	for _, addr := range sortedKeys(merge(b, a)) {
		out = append(out, &plans.FacilityImpact{Address: addr, Before: b[addr], After: a[addr]})
	}
	return out
}

// beforeBySubtraction is the configuration's aggregate with every changed instance's new
// record taken away and its old record added back.
func beforeBySubtraction(ev *Evaluated, p *plans.Plan) *schema.Aggregator {
	before := ev.Aggregates.Clone()
	for _, rc := range p.ResourceChanges {
		if rc.Action == plans.NoOp && !rc.RecordOnly {
			continue
		}
		if rc.After != nil && rc.Action != plans.Delete {
			if inst := ev.Instance(rc.Address); inst != nil {
				before.Add(inst, -1)
			}
		}
		if rc.Before != nil {
			before.Add(newJSONRecord(rc.Address, rc.Kind, rc.Before), 1)
		}
	}
	return before
}

func index(fs []*schema.FacilitySummary) map[string]*schema.FacilitySummary {
	m := make(map[string]*schema.FacilitySummary, len(fs))
	for _, f := range fs {
		m[f.Address] = f
	}
	return m
}

func merge(a, b map[string]*schema.FacilitySummary) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// jsonRecord reads an instance in state (or a plan's before) for aggregation.
type jsonRecord struct {
	addr, kind string
	m          map[string]any
}

func newJSONRecord(addr, kind string, attrs json.RawMessage) *jsonRecord {
	r := &jsonRecord{addr: addr, kind: kind}
	_ = json.Unmarshal(attrs, &r.m)
	return r
}

func (r *jsonRecord) Address() string { return r.addr }
func (r *jsonRecord) Kind() string    { return r.kind }

func (r *jsonRecord) Str(name string) string {
	s, _ := r.m[name].(string)
	return s
}

func (r *jsonRecord) Figure(name string) float64 {
	f, _ := r.m[name].(float64)
	return f
}
