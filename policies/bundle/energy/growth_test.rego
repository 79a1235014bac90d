package fabrica.energy.growth_test

import data.fabrica.energy.growth

agg(before, after) := {"aggregates": [{"address": "facility.a", "before": before, "after": after}]}

test_small_growth_and_new_facilities_pass if {
	count(growth.warn) == 0 with input as agg({"annual_energy_mwh": 1000}, {"annual_energy_mwh": 1050})
	count(growth.warn) == 0 with input as agg(null, {"annual_energy_mwh": 1000})
}

test_growth_above_param_warns_with_figures if {
	ws := growth.warn with input as agg({"annual_energy_mwh": 1000}, {"annual_energy_mwh": 1500})
	some w in ws
	w.address == "facility.a"
	contains(w.msg, "from 1000 MWh to 1500 MWh (+50 %)")
}
