package fabrica.security.encryption_at_rest_test

import data.fabrica.security.encryption_at_rest

storage(after) := {"resource_changes": [{"address": "storage.s", "kind": "storage", "action": "create", "after": after}]}

test_encrypted_storage_passes if {
	count(encryption_at_rest.deny) == 0 with input as storage({"kind": "ceph", "encryption_at_rest": true})
}

test_unencrypted_or_unset_denies if {
	ds := encryption_at_rest.deny with input as storage({"kind": "ceph", "encryption_at_rest": false})
	some d in ds
	d.address == "storage.s"
	d.attribute == "encryption_at_rest"
	count(encryption_at_rest.deny) == 1 with input as storage({"kind": "ceph"})
}
