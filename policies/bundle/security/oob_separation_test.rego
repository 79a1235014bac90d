package fabrica.security.oob_separation_test

import data.fabrica.security.oob_separation

fabric(name, kind, transport) := {"address": sprintf("fabric.%s", [name]), "kind": "fabric", "action": "create", "after": {"kind": kind, "transport": transport, "facility": "facility.a"}}

pod(gpus, fabrics) := {
	"aggregates": [{"address": "facility.a", "before": null, "after": {"gpus": gpus}}],
	"resource_changes": fabrics,
}

test_pod_with_oob_fabric_passes if {
	count(oob_separation.deny) == 0 with input as pod(1024, [fabric("compute", "compute", "infiniband"), fabric("oob", "oob", "ethernet")])
}

test_small_facility_needs_no_oob if {
	count(oob_separation.deny) == 0 with input as pod(16, [fabric("compute", "compute", "infiniband")])
}

test_pod_without_oob_fabric_denied if {
	ds := oob_separation.deny with input as pod(1024, [fabric("compute", "compute", "infiniband")])
	some d in ds
	d.address == "facility.a"
	contains(d.msg, "1024 GPUs but has no fabric of kind \"oob\"")
}

test_cluster_on_oob_fabric_denied if {
	doc := pod(8, [
		fabric("oob", "oob", "ethernet"),
		{"address": "training_cluster.c", "kind": "training_cluster", "action": "create", "after": {"fabric": "fabric.oob"}},
	])
	ds := oob_separation.deny with input as doc
	some d in ds
	d.address == "training_cluster.c"
	d.attribute == "fabric"
}

test_infiniband_oob_denied if {
	ds := oob_separation.deny with input as pod(8, [fabric("oob", "oob", "infiniband")])
	some d in ds
	d.attribute == "transport"
}
