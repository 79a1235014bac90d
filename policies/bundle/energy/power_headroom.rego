# METADATA
# title: Facility power headroom
# description: |
#   The planned IT load of a facility (hardware, network and storage, from the plan
#   aggregates) must stay at or below params.power_headroom_max_fraction (default 0.9)
#   of its it_power_kw, leaving room for growth, derating and failover. The 90 % is a
#   proposal, not a sourced figure.
package fabrica.energy.power_headroom

import data.fabrica.lib

deny contains lib.finding(msg, addr, "it_power_kw") if {
	some addr, s in lib.facility_summary
	cap := lib.num(s, "it_power_kw", 0)
	cap > 0
	load := lib.num(s, "it_load_kw", 0)
	frac := data.params.power_headroom_max_fraction
	load > frac * cap
	msg := sprintf(
		"planned IT load of %v kW is %v %% of it_power_kw = %v kW, above the %v %% that leaves headroom for growth and derating. Raise it_power_kw or move hardware to another facility.",
		[lib.round1(load), lib.round1((100 * load) / cap), cap, lib.round1(100 * frac)],
	)
}
