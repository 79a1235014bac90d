package fabrica.reliability.storage_protection_test

import data.fabrica.reliability.storage_protection

storage(protection) := {"resource_changes": [{"address": "storage.s", "kind": "storage", "action": "create", "after": {"protection": protection}}]}

test_three_replicas_or_ec_m2_pass if {
	count(storage_protection.deny) == 0 with input as storage({"mode": "replicated", "replicas": 3})
	count(storage_protection.deny) == 0 with input as storage({"mode": "replicated", "replicas": null})
	count(storage_protection.deny) == 0 with input as storage(null)
	count(storage_protection.deny) == 0 with input as storage({"mode": "erasure", "data_chunks": 4, "coding_chunks": 2})
}

test_two_replicas_denied if {
	ds := storage_protection.deny with input as storage({"mode": "replicated", "replicas": 2})
	some d in ds
	d.attribute == "protection.replicas"
	contains(d.msg, "2 replicas survive the loss of only 1 host")
}

test_ec_single_coding_chunk_denied if {
	ds := storage_protection.deny with input as storage({"mode": "erasure", "data_chunks": 8, "coding_chunks": 1})
	some d in ds
	d.attribute == "protection.coding_chunks"
}
