# METADATA
# title: Annual energy growth
# description: |
#   Reports, as a warning for review, a facility whose annual energy (plan aggregates,
#   annual_energy_mwh) grows by more than params.energy_growth_warn_pct percent (default
#   10) in this plan, with the figures before and after. New facilities are not
#   reported.
package fabrica.energy.growth

import data.fabrica.lib

warn contains {"msg": msg, "address": addr} if {
	some addr, after in lib.facility_summary
	before := lib.facility_before[addr]
	b := lib.num(before, "annual_energy_mwh", 0)
	b > 0
	a := lib.num(after, "annual_energy_mwh", 0)
	pct := (100 * (a - b)) / b
	pct > data.params.energy_growth_warn_pct
	msg := sprintf(
		"annual energy grows from %v MWh to %v MWh (+%v %%), more than the %v %% reported for review.",
		[lib.round1(b), lib.round1(a), lib.round1(pct), data.params.energy_growth_warn_pct],
	)
}
