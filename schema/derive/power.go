package derive

// FacilityPower is the derived power and energy of a facility (domain.md
// §2.2). All power figures are in kW.
type FacilityPower struct {
	ITLoadKW       float64 // the IT load passed in
	FacilityLoadKW float64 // IT load × PUE
	HeadroomKW     float64 // IT capacity − IT load; negative when over capacity
	AnnualMWh      float64 // facility load running all year
	AnnualCO2T     float64 // tonnes of CO₂ for AnnualMWh
	DCiE           float64 // 1/PUE, as a fraction (0.77, not 77 %)
}

// hoursPerYearK is 8,760 h / 1,000: kW × hours → MWh.
const hoursPerYearK = 8.76

// Facility derives a facility's load and energy from its IT load (the sum of
// nameplate rack loads plus network, storage and management), its design
// PUE, its IT capacity (it_power_kw) and the grid's carbon intensity in
// g CO₂/kWh [S15]. It assumes the load runs at nameplate all year, which is
// the planning upper bound: annual MWh = facility kW × 8.76, and
// t CO₂ = MWh × g/kWh / 1,000. The caller validates pue ≥ 1; a pue ≤ 0
// yields a DCiE of 0 rather than a division by zero.
func Facility(itLoadKW, pue, itPowerKW, carbonGPerKWh float64) FacilityPower {
	p := FacilityPower{
		ITLoadKW:       itLoadKW,
		FacilityLoadKW: itLoadKW * pue,
		HeadroomKW:     itPowerKW - itLoadKW,
	}
	p.AnnualMWh = p.FacilityLoadKW * hoursPerYearK
	p.AnnualCO2T = p.AnnualMWh * carbonGPerKWh / 1000
	if pue > 0 {
		p.DCiE = 1 / pue
	}
	return p
}

// DefaultFeedUtilizationPct is NetBox's default max_utilization for a power
// feed [S22].
const DefaultFeedUtilizationPct = 80

// FeedCapacityKW returns the power a feed may carry after derating, the way
// NetBox computes available power: V × A × utilization/100, times 1.732 for
// three-phase feeds [S22]. utilPct = 0 means DefaultFeedUtilizationPct.
// 415 V, three-phase, 63 A at 80 % gives 36.2 kW; at 80 A, 46.0 kW.
func FeedCapacityKW(voltageV, amperageA, utilPct float64, threePhase bool) float64 {
	if utilPct == 0 {
		utilPct = DefaultFeedUtilizationPct
	}
	w := voltageV * amperageA * utilPct / 100
	if threePhase {
		// NetBox's constant, so our figures match what it shows.
		w *= 1.732
	}
	return w / 1000
}
