package schema

import (
	"math"
	"sort"

	"github.com/fabrica-iac/fabrica/schema/diag"

	"github.com/fabrica-iac/fabrica/schema/derive"
	"github.com/zclconf/go-cty/cty"
)

// FacilitySummary aggregates a facility's instances into the figures a reviewer reads
// first (DESIGN.md §4): load, energy, GPUs, racks, switches and storage.
type FacilitySummary struct {
	Address       string  `json:"address"`
	ITPowerKW     float64 `json:"it_power_kw"`
	PUE           float64 `json:"design_pue"`
	Nodes         int     `json:"nodes"`
	GPUs          int     `json:"gpus"`
	Racks         int     `json:"racks"`
	HardwareKW    float64 `json:"hardware_kw"`
	NetworkKW     float64 `json:"network_kw"`
	StorageKW     float64 `json:"storage_kw"`
	ITLoadKW      float64 `json:"it_load_kw"`
	FacilityKW    float64 `json:"facility_load_kw"`
	HeadroomKW    float64 `json:"power_headroom_kw"`
	AnnualMWh     float64 `json:"annual_energy_mwh"`
	AnnualCO2T    float64 `json:"annual_co2_t"`
	Switches      int     `json:"switches"`
	LeafSwitches  int     `json:"leaf_switches"`
	SpineSwitches int     `json:"spine_switches"`
	CoreSwitches  int     `json:"core_switches"`
	UsableTB      float64 `json:"usable_storage_tb"`
	RawTB         float64 `json:"raw_storage_tb"`
	// RackLoadKW is the nameplate load of each named rack.
	RackLoadKW map[string]float64 `json:"rack_load_kw"`
	// MaxRackKW is the heaviest rack's load, and MaxRack its name.
	MaxRackKW float64 `json:"max_rack_kw"`
	MaxRack   string  `json:"max_rack,omitempty"`
	// RackCooling is the facility's rack cooling; CoolingLimitKW the most it removes per rack.
	RackCooling    string  `json:"rack_cooling"`
	CoolingLimitKW float64 `json:"rack_cooling_limit_kw"`
	// HeaviestRackCFM (air) or HeaviestRackLPM (liquid) is the coolant flow the heaviest
	// rack needs, at ΔT 20 °F for air and 10 K for water.
	HeaviestRackCFM float64 `json:"heaviest_rack_airflow_cfm,omitempty"`
	HeaviestRackLPM float64 `json:"heaviest_rack_water_lpm,omitempty"`
}

// Design temperature rises for the coolant-flow figures (domain.md §2.3).
const (
	airDeltaTF   = 20
	waterDeltaTK = 10
)

// DerivedValues returns the facility's derived attributes (KindSpec.Derived) as values.
func (f *FacilitySummary) DerivedValues() map[string]cty.Value {
	return map[string]cty.Value{
		"it_load_kw":        NumberVal(f.ITLoadKW),
		"facility_load_kw":  NumberVal(f.FacilityKW),
		"power_headroom_kw": NumberVal(f.HeadroomKW),
		"annual_energy_mwh": NumberVal(f.AnnualMWh),
		"annual_co2_t":      NumberVal(f.AnnualCO2T),
		"racks":             cty.NumberIntVal(int64(f.Racks)),
		"gpus":              cty.NumberIntVal(int64(f.GPUs)),
	}
}

// Record is what the aggregation reads of an instance: an evaluated Instance, or an
// instance in state (whose attributes hold its arguments and derived figures together).
type Record interface {
	Address() string
	Kind() string
	Str(name string) string
	// Figure returns a number argument or derived figure, 0 when absent.
	Figure(name string) float64
}

// Aggregator sums records into per-facility figures. Every figure is a sum (racks are
// counted from per-rack sums), so a plan derives "before" from "after" by subtracting the
// changed instances' new records and adding their old ones, without reading the rest.
type Aggregator struct {
	byFac map[string]*FacilitySummary
	// rackNodes counts nodes per facility and rack, so a rack emptied by a plan vanishes.
	rackNodes map[[2]string]int
	// facilityAttrs keeps each facility's own arguments (not sums).
	facilityAttrs map[string]facilityAttrs
}

type facilityAttrs struct {
	itPowerKW, pue, carbon float64
	rackCooling            string
}

// NewAggregator returns an empty aggregator.
func NewAggregator() *Aggregator {
	return &Aggregator{byFac: map[string]*FacilitySummary{}, rackNodes: map[[2]string]int{}, facilityAttrs: map[string]facilityAttrs{}}
}

func (a *Aggregator) get(addr string) *FacilitySummary {
	f := a.byFac[addr]
	if f == nil {
		f = &FacilitySummary{Address: addr, RackLoadKW: map[string]float64{}}
		a.byFac[addr] = f
	}
	return f
}

// Add adds a record (sign +1) or takes it away (sign -1).
func (a *Aggregator) Add(r Record, sign int) {
	sf := float64(sign)
	switch r.Kind() {
	case KindFacility:
		a.get(r.Address())
		if sign > 0 {
			a.facilityAttrs[r.Address()] = facilityAttrs{itPowerKW: r.Figure("it_power_kw"), pue: r.Figure("design_pue"),
				carbon: r.Figure("carbon_g_per_kwh"), rackCooling: r.Str("rack_cooling")}
		} else {
			delete(a.facilityAttrs, r.Address())
		}
	case KindHardware:
		f := a.get(r.Str("facility"))
		kw := r.Figure("power_kw")
		f.Nodes += sign
		f.GPUs += sign * int(r.Figure("gpus"))
		f.HardwareKW += sf * kw
		if rack := r.Str("rack"); rack != "" {
			f.RackLoadKW[rack] += sf * kw
			key := [2]string{f.Address, rack}
			if a.rackNodes[key] += sign; a.rackNodes[key] <= 0 {
				delete(a.rackNodes, key)
				delete(f.RackLoadKW, rack)
			}
		}
	case KindFabric:
		f := a.get(r.Str("facility"))
		f.NetworkKW += sf * r.Figure("power_kw")
		l, s, c := int(r.Figure("leaf_switches")), int(r.Figure("spine_switches")), int(r.Figure("core_switches"))
		f.LeafSwitches += sign * l
		f.SpineSwitches += sign * s
		f.CoreSwitches += sign * c
		f.Switches += sign * (l + s + c)
	case KindStorage:
		f := a.get(r.Str("facility"))
		f.StorageKW += sf * r.Figure("power_kw")
		f.UsableTB += sf * r.Figure("usable_tb")
		f.RawTB += sf * r.Figure("raw_tb")
	}
}

// Clone returns an independent copy, to derive "before" from "after".
func (a *Aggregator) Clone() *Aggregator {
	c := NewAggregator()
	for k, f := range a.byFac {
		cp := *f
		cp.RackLoadKW = make(map[string]float64, len(f.RackLoadKW))
		for r, kw := range f.RackLoadKW {
			cp.RackLoadKW[r] = kw
		}
		c.byFac[k] = &cp
	}
	for k, v := range a.rackNodes {
		c.rackNodes[k] = v
	}
	for k, v := range a.facilityAttrs {
		c.facilityAttrs[k] = v
	}
	return c
}

// Summaries finishes the figures of every facility that exists (has its own record),
// sorted by address.
func (a *Aggregator) Summaries() []*FacilitySummary {
	out := make([]*FacilitySummary, 0, len(a.byFac))
	for addr, agg := range a.byFac {
		fa, ok := a.facilityAttrs[addr]
		if !ok {
			continue
		}
		f := *agg
		f.RackLoadKW = agg.RackLoadKW
		f.ITPowerKW, f.PUE, f.RackCooling = fa.itPowerKW, fa.pue, fa.rackCooling
		f.finish(fa.carbon)
		out = append(out, &f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

func (f *FacilitySummary) finish(carbon float64) {
	loads := make(map[string]float64, len(f.RackLoadKW))
	for rack, kw := range f.RackLoadKW {
		loads[rack] = round4(kw)
	}
	f.RackLoadKW = loads
	f.Racks = len(f.RackLoadKW)
	f.MaxRackKW, f.MaxRack = 0, ""
	for rack, kw := range f.RackLoadKW {
		if kw > f.MaxRackKW || (kw == f.MaxRackKW && rack < f.MaxRack) {
			f.MaxRackKW, f.MaxRack = kw, rack
		}
	}
	f.MaxRackKW = round4(f.MaxRackKW)
	f.HardwareKW, f.NetworkKW, f.StorageKW = round4(f.HardwareKW), round4(f.NetworkKW), round4(f.StorageKW)
	f.UsableTB, f.RawTB = round4(f.UsableTB), round4(f.RawTB)
	f.CoolingLimitKW = derive.RackCoolingLimitKW(f.RackCooling)
	if derive.CoolingKind(f.RackCooling) == "air" {
		f.HeaviestRackCFM = math.Round(derive.AirflowCFM(f.MaxRackKW, airDeltaTF))
	} else {
		f.HeaviestRackLPM = round4(derive.WaterFlowLPM(f.MaxRackKW, waterDeltaTK))
	}
	f.ITLoadKW = round4(f.HardwareKW + f.NetworkKW + f.StorageKW)
	p := derive.Facility(f.ITLoadKW, f.PUE, f.ITPowerKW, carbon)
	f.FacilityKW, f.HeadroomKW, f.AnnualMWh, f.AnnualCO2T = round4(p.FacilityLoadKW), round4(p.HeadroomKW), round4(p.AnnualMWh), round4(p.AnnualCO2T)
}

// Summarize aggregates evaluated instances per facility and checks the facility-wide
// limits. Aggregates feed outputs, the plan summary and policies, never resource
// arguments.
func Summarize(instances []*Instance, l Lookup) (*Aggregator, []*FacilitySummary, diag.Diagnostics) {
	agg := NewAggregator()
	for _, inst := range instances {
		agg.Add(inst, 1)
	}
	out := agg.Summaries()
	var diags diag.Diagnostics
	for _, f := range out {
		if fac := l.Instance(f.Address); fac != nil {
			diags = diags.Append(checkFacility(f, fac))
		}
	}
	return agg, out, diags
}

// checkFacility applies the facility-wide hard limits of domain.md §3: IT load within the
// facility's IT power, facility load within the utility feed, and every rack within the
// rack power limit. Rack density against the rack cooling is a policy (energy.rack_density),
// with thresholds a team can tune or waive.
func checkFacility(f *FacilitySummary, fac *Instance) diag.Diagnostics {
	var diags diag.Diagnostics
	if f.ITLoadKW > f.ITPowerKW {
		diags = diags.Append(diag.Errorf(fac.Range("it_power_kw"), "IT load exceeds facility power",
			"%s draws %.1f kW of IT load (hardware %.1f, network %.1f, storage %.1f), more than it_power_kw = %g. Raise it_power_kw or move hardware to another facility.",
			f.Address, f.ITLoadKW, f.HardwareKW, f.NetworkKW, f.StorageKW, f.ITPowerKW))
	}
	if u := fac.Num("utility_power_kw"); u > 0 && f.FacilityKW > u {
		diags = diags.Append(diag.Errorf(fac.Range("utility_power_kw"), "Facility load exceeds utility power",
			"IT load %.1f kW × PUE %g = %.1f kW, more than utility_power_kw = %g.", f.ITLoadKW, f.PUE, f.FacilityKW, u))
	}
	if limit := fac.Num("rack_power_limit_kw"); limit > 0 && f.MaxRackKW > limit {
		diags = diags.Append(diag.Errorf(fac.Range("rack_power_limit_kw"), "Rack over its power limit",
			"Rack %q draws %.1f kW, more than rack_power_limit_kw = %g. Spread its hardware over more racks.", f.MaxRack, f.MaxRackKW, limit))
	}
	for i := range diags {
		diags[i].Address = f.Address
	}
	return diags
}

func round4(f float64) float64 { return roundTo(f, 4) }
