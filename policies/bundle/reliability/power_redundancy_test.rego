package fabrica.reliability.power_redundancy_test

import data.fabrica.reliability.power_redundancy

pod(gpus, after) := {
	"aggregates": [{"address": "facility.a", "before": null, "after": {"gpus": gpus}}],
	"resource_changes": [{"address": "facility.a", "kind": "facility", "action": "create", "after": after}],
}

test_redundant_tier3_pod_passes if {
	count(power_redundancy.deny) == 0 with input as pod(1024, {"power_redundancy": "2N", "tier": 3})
	count(power_redundancy.deny) == 0 with input as pod(1024, {"power_redundancy": "N+1", "tier": 4})
}

test_small_facility_not_checked if {
	count(power_redundancy.deny) == 0 with input as pod(64, {"power_redundancy": "N"})
}

test_pod_on_single_feed_denied if {
	ds := power_redundancy.deny with input as pod(1024, {"power_redundancy": "N", "tier": 3})
	some d in ds
	d.attribute == "power_redundancy"
	contains(d.msg, "\"2N\", \"N+1\"")
}

test_pod_below_tier3_or_unknown_denied if {
	ds := power_redundancy.deny with input as pod(1024, {"power_redundancy": "2N", "tier": 2})
	some d in ds
	d.attribute == "tier"
	ds2 := power_redundancy.deny with input as pod(1024, {"power_redundancy": "2N"})
	some d2 in ds2
	contains(d2.msg, "an unknown tier")
}
