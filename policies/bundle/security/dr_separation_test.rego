package fabrica.security.dr_separation_test

import data.fabrica.security.dr_separation

dr(after) := {"resource_changes": [{"address": "dr_site.d", "kind": "dr_site", "action": "create", "after": after}]}

test_distant_secondary_passes if {
	doc := dr({"primary": "facility.fra", "secondary": "facility.ams", "distance_km": 363.8})
	count(dr_separation.deny) == 0 with input as doc
	count(dr_separation.warn) == 0 with input as doc
}

test_same_facility_denied if {
	ds := dr_separation.deny with input as dr({"primary": "facility.fra", "secondary": "facility.fra", "distance_km": 0})
	count(ds) == 1
	some d in ds
	contains(d.msg, "same facility")
}

test_close_secondary_denied if {
	ds := dr_separation.deny with input as dr({"primary": "facility.a", "secondary": "facility.b", "distance_km": 12.34})
	some d in ds
	d.attribute == "secondary"
	contains(d.msg, "12.3 km")
	count(dr_separation.deny) == 0 with input as dr({"primary": "facility.a", "secondary": "facility.b", "distance_km": 12.34})
		with data.params.dr_min_distance_km as 10
}

test_unknown_distance_warns if {
	ws := dr_separation.warn with input as dr({"primary": "facility.a", "secondary": "facility.b"})
	count(ws) == 1
}
