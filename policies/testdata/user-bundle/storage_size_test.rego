package fabrica.custom.storage_size_test

import data.fabrica.custom.storage_size

test_small_passes if {
	count(storage_size.deny) == 0 with input as {"resource_changes": [{"address": "storage.s", "kind": "storage", "action": "create", "after": {"nodes": 3}}]}
}

test_big_denied if {
	count(storage_size.deny) == 1 with input as {"resource_changes": [{"address": "storage.s", "kind": "storage", "action": "create", "after": {"nodes": 300}}]}
}
