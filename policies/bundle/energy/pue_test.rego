package fabrica.energy.pue_test

import data.fabrica.energy.pue

fac(action, after) := {"resource_changes": [{"address": "facility.a", "kind": "facility", "action": action, "after": after}]}

nov_2026 := time.parse_rfc3339_ns("2026-11-29T00:00:00Z")

jan_2026 := time.parse_rfc3339_ns("2026-01-15T00:00:00Z")

test_efficient_facility_passes if {
	count(pue.deny) == 0 with input as fac("create", {"design_pue": 1.25})
	count(pue.warn) == 0 with input as fac("create", {"design_pue": 1.25})
}

test_above_warn_level_warns if {
	count(pue.deny) == 0 with input as fac("update", {"design_pue": 1.4})
	ws := pue.warn with input as fac("update", {"design_pue": 1.4})
	some w in ws
	w.address == "facility.a"
	w.attribute == "design_pue"
}

test_above_ceiling_denies_without_warning if {
	ds := pue.deny with input as fac("update", {"design_pue": 1.6})
	some d in ds
	d.attribute == "design_pue"
	contains(d.msg, "1.6 exceeds the ceiling of 1.5")
	count(pue.warn) == 0 with input as fac("update", {"design_pue": 1.6})
}

test_german_new_build_stricter_from_july_2026 if {
	de := fac("create", {"design_pue": 1.25, "jurisdiction": "DE"})
	ds := pue.deny with input as de with time.now_ns as nov_2026
	some d in ds
	contains(d.msg, "ceiling of 1.2 for new builds in jurisdiction \"de\"")
}

test_german_new_build_before_july_2026_uses_general_ceiling if {
	de := fac("create", {"design_pue": 1.25, "jurisdiction": "de"})
	count(pue.deny) == 0 with input as de with time.now_ns as jan_2026
}

test_german_existing_facility_uses_general_ceiling if {
	de := fac("update", {"design_pue": 1.25, "jurisdiction": "de"})
	count(pue.deny) == 0 with input as de with time.now_ns as nov_2026
}

test_params_move_thresholds if {
	count(pue.deny) == 0 with input as fac("update", {"design_pue": 1.6}) with data.params.pue_deny as 1.7
}

test_deleted_facility_not_checked if {
	count(pue.deny) == 0 with input as fac("delete", null)
}
