package fabrica.lib_test

import data.fabrica.lib

plan := {"resource_changes": [
	{"address": "facility.a", "kind": "facility", "action": "create", "after": {"tier": 3}},
	{"address": "facility.old", "kind": "facility", "action": "delete", "after": null},
	{"address": "storage.s", "kind": "storage", "action": "update", "after": {"nodes": 3}},
	{"address": "hardware.h[0]", "kind": "hardware", "action": "no-op", "after": {"gpus": 8}},
]}

test_changes_by_kind_skip_deletions if {
	[rc.address | some rc in lib.changes.facility] == ["facility.a"] with input as plan
	[rc.address | some rc in lib.changes.storage] == ["storage.s"] with input as plan
	lib.changes.dr_site == [] with input as plan
	[rc.address | some rc in lib.hardware] == ["hardware.h[0]"] with input as plan
}

test_changes_and_by_kind_agree if {
	every kind in lib.kinds - {"hardware"} {
		lib.changes[kind] == lib.kept(lib.by_kind[kind]) with input as plan
	}
	not lib.changes.hardware with input as plan
	lib.by_kind.hardware[0].address == "hardware.h[0]" with input as plan
}

test_by_address_excludes_hardware if {
	lib.by_address["storage.s"].after.nodes == 3 with input as plan
	not lib.by_address["hardware.h[0]"] with input as plan
}

test_get_and_num if {
	lib.get({"a": 1}, "a", 2) == 1
	lib.get({"a": null}, "a", 2) == 2
	lib.get(null, "a", 2) == 2
	lib.num({"a": "x"}, "a", 0) == 0
	lib.num({"a": 4}, "a", 0) == 4
}

test_valid_date if {
	lib.valid_date("2024-02-29")
	not lib.valid_date("2026-02-29")
	not lib.valid_date("2026-13-01")
	not lib.valid_date("2026-04-31")
	not lib.valid_date("1 May 2026")
	not lib.valid_date(20260501)
	lib.date_ns("2026-07-01") == time.parse_rfc3339_ns("2026-07-01T00:00:00Z")
}

test_facility_summary if {
	agg := {"aggregates": [
		{"address": "facility.a", "before": {"gpus": 8}, "after": {"gpus": 16}},
		{"address": "facility.new", "before": null, "after": {"gpus": 1}},
	]}
	lib.facility_summary["facility.a"].gpus == 16 with input as agg
	lib.facility_before["facility.a"].gpus == 8 with input as agg
	not lib.facility_before["facility.new"] with input as agg
}
