package fabrica.energy.rack_density_test

import data.fabrica.energy.rack_density

summary(cooling, loads) := {"aggregates": [{"address": "facility.a", "before": null, "after": {
	"rack_cooling": cooling,
	"rack_cooling_limit_kw": 80,
	"rack_load_kw": loads,
	"max_rack_kw": max([kw | some kw in loads]),
}}]}

test_air_racks_within_limits_pass if {
	doc := summary("air", {"r1": 12, "r2": 20})
	count(rack_density.deny) == 0 with input as doc
	count(rack_density.warn) == 0 with input as doc
}

test_air_rack_over_20_warns if {
	doc := summary("air", {"r1": 24.5, "r2": 12})
	count(rack_density.deny) == 0 with input as doc
	ws := rack_density.warn with input as doc
	some w in ws
	w.address == "facility.a"
	w.attribute == "rack_cooling"
	contains(w.msg, "rack r1 draws 24.5 kW, more than 20 kW, what air rack cooling handles")
}

test_air_rack_over_30_denies_and_names_racks if {
	doc := summary("air", {"r1": 40.8, "r2": 40.8, "r3": 25})
	ds := rack_density.deny with input as doc
	some d in ds
	contains(d.msg, "2 racks draw more than 30 kW (r1 (40.8 kW), r2 (40.8 kW)), the limit for air rack cooling")
	contains(d.msg, "r1 (40.8 kW), r2 (40.8 kW)")
	ws := rack_density.warn with input as doc
	some w in ws
	contains(w.msg, "rack r3 draws 25 kW")
}

test_many_racks_listed_briefly if {
	doc := summary("air", {"a": 31, "b": 31, "c": 31, "d": 31, "e": 31, "f": 31, "g": 31})
	ds := rack_density.deny with input as doc
	some d in ds
	contains(d.msg, "e (31 kW), and 2 more")
}

test_rdhx_and_dlc_limits if {
	count(rack_density.deny) == 0 with input as summary("rdhx", {"r1": 75})
	count(rack_density.deny) == 1 with input as summary("rdhx", {"r1": 85})
	count(rack_density.deny) == 0 with input as summary("dlc", {"r1": 140})
	count(rack_density.deny) == 1 with input as summary("dlc", {"r1": 151})
}

test_params_override_per_cooling if {
	doc := summary("air", {"r1": 24})
	count(rack_density.deny) == 1 with input as doc with data.params.rack_density_kw.air as {"deny": 22}
}
