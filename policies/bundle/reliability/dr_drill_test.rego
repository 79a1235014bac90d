package fabrica.reliability.dr_drill_test

import data.fabrica.reliability.dr_drill

dr(drill) := {"resource_changes": [{"address": "dr_site.d", "kind": "dr_site", "action": "create", "after": {"drill": drill}}]}

nov_29 := time.parse_rfc3339_ns("2026-11-29T00:00:00Z")

test_recent_drill_passes if {
	doc := dr({"interval_days": 90, "last": "2026-10-01"})
	count(dr_drill.deny) == 0 with input as doc with time.now_ns as nov_29
	count(dr_drill.warn) == 0 with input as doc with time.now_ns as nov_29
}

test_overdue_drill_denied if {
	ds := dr_drill.deny with input as dr({"interval_days": 30, "last": "2026-09-01"}) with time.now_ns as nov_29
	some d in ds
	d.attribute == "drill.last"
	contains(d.msg, "2026-09-01, 89 days ago")
	contains(d.msg, "overdue since 2026-10-01")
}

test_default_interval_applies if {
	count(dr_drill.deny) == 1 with input as dr({"last": "2026-06-01"}) with time.now_ns as nov_29
}

test_malformed_date_denied if {
	ds := dr_drill.deny with input as dr({"interval_days": 90, "last": "2026-02-30"}) with time.now_ns as nov_29
	some d in ds
	contains(d.msg, "is not a date")
}

test_missing_drill_warns if {
	count(dr_drill.warn) == 1 with input as dr(null) with time.now_ns as nov_29
	count(dr_drill.warn) == 1 with input as dr({"interval_days": 90}) with time.now_ns as nov_29
	count(dr_drill.warn) == 1 with input as dr({"interval_days": 400, "last": "2026-11-01"}) with time.now_ns as nov_29
}
