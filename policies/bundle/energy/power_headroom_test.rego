package fabrica.energy.power_headroom_test

import data.fabrica.energy.power_headroom

summary(load, cap) := {"aggregates": [{"address": "facility.a", "before": null, "after": {"it_load_kw": load, "it_power_kw": cap}}]}

test_load_within_90_percent_passes if {
	count(power_headroom.deny) == 0 with input as summary(1800, 2000)
}

test_load_above_90_percent_denies if {
	ds := power_headroom.deny with input as summary(1850, 2000)
	some d in ds
	d.attribute == "it_power_kw"
	contains(d.msg, "1850 kW is 92.5 % of it_power_kw = 2000 kW")
}

test_fraction_is_a_param if {
	count(power_headroom.deny) == 0 with input as summary(1850, 2000) with data.params.power_headroom_max_fraction as 0.95
}
