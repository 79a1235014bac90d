# METADATA
# title: Rack density within the rack cooling
# description: |
#   Every rack's nameplate load (plan aggregates, rack_load_kw) must stay within what
#   the facility's rack_cooling removes: params.rack_density_kw per cooling, by default
#   air warn above 20 kW and deny above 30 kW, rear-door heat exchangers (rdhx) deny
#   above 80 kW, direct liquid cooling (dlc) above 150 kW and immersion above 200 kW.
#   A cooling without a deny limit there falls back to the plan's
#   rack_cooling_limit_kw. The sources disagree on these ceilings, so they are
#   parameters.
# related_resources:
#   - ref: https://crac.services/blog/in-row-vs-perimeter-crac-high-density-racks
#     description: density ceilings of air, rear-door and direct-to-chip cooling
package fabrica.energy.rack_density

import data.fabrica.lib

deny contains lib.finding(msg, addr, "rack_cooling") if {
	some addr, s in lib.facility_summary
	limit := limit_deny(s)
	lib.num(s, "max_rack_kw", 0) > limit
	over := sort([r | some r, kw in s.rack_load_kw; kw > limit])
	msg := sprintf(
		"%s the limit for %s rack cooling. Use denser cooling (rdhx, dlc or immersion) or spread the hardware over more racks.",
		[over_phrase(over, s, limit), s.rack_cooling],
	)
}

warn contains lib.finding(msg, addr, "rack_cooling") if {
	some addr, s in lib.facility_summary
	limit := limit_warn(s)
	lib.num(s, "max_rack_kw", 0) > limit
	high := sort([r | some r, kw in s.rack_load_kw; kw > limit; below_deny(kw, s)])
	count(high) > 0
	msg := sprintf(
		"%s what %s rack cooling handles comfortably. Most operators keep such racks at or below it.",
		[over_phrase(high, s, limit), s.rack_cooling],
	)
}

limits(s) := lib.get(data.params.rack_density_kw, lib.get(s, "rack_cooling", "air"), {})

limit_deny(s) := kw if {
	kw := lib.num(limits(s), "deny", lib.num(s, "rack_cooling_limit_kw", 0))
	kw > 0
}

below_deny(kw, s) if kw <= limit_deny(s)

below_deny(_, s) if not limit_deny(s)

limit_warn(s) := limits(s).warn if is_number(limits(s).warn)

# over_phrase says which racks exceed a limit: "rack r1 draws 35 kW, more than 30 kW,"
# or "3 racks draw more than 30 kW (r1 (35 kW), ...),".
over_phrase(racks, s, limit) := sprintf("rack %s draws %v kW, more than %v kW,", [racks[0], lib.round1(s.rack_load_kw[racks[0]]), limit]) if {
	count(racks) == 1
}

over_phrase(racks, s, limit) := sprintf("%d racks draw more than %v kW (%s),", [count(racks), limit, rack_list(racks, s)]) if {
	count(racks) > 1
}

# rack_list names up to five racks with their loads.
rack_list(racks, s) := concat(", ", array.concat(shown, more)) if {
	shown := [sprintf("%s (%v kW)", [r, lib.round1(s.rack_load_kw[r])]) | some r in array.slice(racks, 0, 5)]
	more := [sprintf("and %d more", [count(racks) - 5]) | count(racks) > 5]
}
