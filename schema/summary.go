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

// Summarize aggregates instances per facility in one pass. Aggregates feed outputs, the
// plan summary and policies, never resource arguments.
func Summarize(instances []*Instance, l Lookup) ([]*FacilitySummary, diag.Diagnostics) {
	byFac := map[string]*FacilitySummary{}
	get := func(addr string) *FacilitySummary {
		f := byFac[addr]
		if f == nil {
			f = &FacilitySummary{Address: addr, RackLoadKW: map[string]float64{}}
			byFac[addr] = f
		}
		return f
	}
	for _, inst := range instances {
		switch inst.Kind() {
		case KindFacility:
			f := get(inst.Addr.String())
			f.ITPowerKW, f.PUE = inst.Num("it_power_kw"), inst.Num("design_pue")
		case KindHardware:
			f := get(inst.Str("facility"))
			kw := inst.DerivedNum("power_kw")
			f.Nodes++
			f.GPUs += int(inst.DerivedNum("gpus"))
			f.HardwareKW += kw
			if rack := inst.Str("rack"); rack != "" {
				f.RackLoadKW[rack] += kw
			}
		case KindFabric:
			f := get(inst.Str("facility"))
			f.NetworkKW += inst.DerivedNum("power_kw")
			l, s, c := int(inst.DerivedNum("leaf_switches")), int(inst.DerivedNum("spine_switches")), int(inst.DerivedNum("core_switches"))
			f.LeafSwitches += l
			f.SpineSwitches += s
			f.CoreSwitches += c
			f.Switches += l + s + c
		case KindStorage:
			f := get(inst.Str("facility"))
			f.StorageKW += inst.DerivedNum("power_kw")
			f.UsableTB += inst.DerivedNum("usable_tb")
			f.RawTB += inst.DerivedNum("raw_tb")
		}
	}
	out := make([]*FacilitySummary, 0, len(byFac))
	for addr, f := range byFac {
		fac := l.Instance(addr)
		if fac == nil {
			continue
		}
		f.Racks = len(f.RackLoadKW)
		for rack, kw := range f.RackLoadKW {
			if kw > f.MaxRackKW || (kw == f.MaxRackKW && rack < f.MaxRack) {
				f.MaxRackKW, f.MaxRack = kw, rack
			}
		}
		f.RackCooling = fac.Str("rack_cooling")
		f.CoolingLimitKW = derive.RackCoolingLimitKW(f.RackCooling)
		if derive.CoolingKind(f.RackCooling) == "air" {
			f.HeaviestRackCFM = math.Round(derive.AirflowCFM(f.MaxRackKW, airDeltaTF))
		} else {
			f.HeaviestRackLPM = round4(derive.WaterFlowLPM(f.MaxRackKW, waterDeltaTK))
		}
		f.ITLoadKW = round4(f.HardwareKW + f.NetworkKW + f.StorageKW)
		p := derive.Facility(f.ITLoadKW, f.PUE, f.ITPowerKW, fac.Num("carbon_g_per_kwh"))
		f.FacilityKW, f.HeadroomKW, f.AnnualMWh, f.AnnualCO2T = round4(p.FacilityLoadKW), round4(p.HeadroomKW), round4(p.AnnualMWh), round4(p.AnnualCO2T)
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	var diags diag.Diagnostics
	for _, f := range out {
		diags = diags.Append(checkFacility(f, l.Instance(f.Address)))
	}
	return out, diags
}

// checkFacility applies the facility-wide hard limits of domain.md §3: IT load within the
// facility's IT power, facility load within the utility feed, and every rack within the
// rack power limit and what the rack cooling can remove.
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
	if f.CoolingLimitKW > 0 && f.MaxRackKW > f.CoolingLimitKW {
		diags = diags.Append(diag.Errorf(fac.Range("rack_cooling"), "Rack exceeds its cooling",
			"Rack %q draws %.1f kW, but %s rack cooling removes at most %g kW per rack. Use denser cooling (rdhx, dlc or immersion) or spread the hardware over more racks.",
			f.MaxRack, f.MaxRackKW, f.RackCooling, f.CoolingLimitKW))
	}
	for i := range diags {
		diags[i].Address = f.Address
	}
	return diags
}

func round4(f float64) float64 { return roundTo(f, 4) }
