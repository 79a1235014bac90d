package fabrica.energy.renewable_test

import data.fabrica.energy.renewable

fac(after) := {"resource_changes": [{"address": "facility.a", "kind": "facility", "action": "create", "after": after}]}

test_green_or_undeclared_facility_passes if {
	count(renewable.warn) == 0 with input as fac({"renewable_fraction": 0.6})
	count(renewable.warn) == 0 with input as fac({"design_pue": 1.2})
}

test_below_floor_warns if {
	ws := renewable.warn with input as fac({"renewable_fraction": 0.2})
	some w in ws
	w.attribute == "renewable_fraction"
}
