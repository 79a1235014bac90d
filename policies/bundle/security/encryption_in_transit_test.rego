package fabrica.security.encryption_in_transit_test

import data.fabrica.security.encryption_in_transit

plan(storage, dr) := {"resource_changes": [
	{"address": "storage.s", "kind": "storage", "action": "create", "after": storage},
	{"address": "dr_site.d", "kind": "dr_site", "action": "create", "after": dr},
]}

test_encrypted_links_pass if {
	count(encryption_in_transit.deny) == 0 with input as plan(
		{"encryption_in_transit": true},
		{"primary": "facility.a", "secondary": "facility.b", "encrypt_in_transit": true},
	)
}

test_plaintext_storage_and_replication_deny if {
	ds := encryption_in_transit.deny with input as plan(
		{"encryption_in_transit": false},
		{"primary": "facility.a", "secondary": "facility.b", "encrypt_in_transit": false},
	)
	{[d.address, d.attribute] | some d in ds} == {["storage.s", "encryption_in_transit"], ["dr_site.d", "encrypt_in_transit"]}
}
