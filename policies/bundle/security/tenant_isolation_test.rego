package fabrica.security.tenant_isolation_test

import data.fabrica.security.tenant_isolation

fabric(kind, transport, isolation, partitions) := {
	"address": sprintf("fabric.%s", [kind]), "kind": "fabric", "action": "create",
	"after": {"kind": kind, "transport": transport, "isolation": isolation, "partitions": partitions, "facility": "facility.a"},
}

cluster(name, fab) := {"address": sprintf("training_cluster.%s", [name]), "kind": "training_cluster", "action": "create", "after": {"fabric": fab, "facility": "facility.a"}}

test_isolated_shared_fabrics_pass if {
	doc := {"resource_changes": [
		fabric("compute", "infiniband", "pkey", ["0x8001", "0x8002"]),
		fabric("storage", "roce", "vrf", ["tenant-a", "tenant-b"]),
		cluster("a", "fabric.compute"), cluster("b", "fabric.compute"),
	]}
	count(tenant_isolation.deny) == 0 with input as doc
	count(tenant_isolation.warn) == 0 with input as doc
}

test_shared_fabrics_without_isolation_deny if {
	doc := {"resource_changes": [
		fabric("compute", "infiniband", "none", []),
		fabric("storage", "roce", "none", []),
		cluster("a", "fabric.compute"), cluster("b", "fabric.compute"),
	]}
	ds := tenant_isolation.deny with input as doc
	{d.address | some d in ds} == {"fabric.compute", "fabric.storage"}
	count(tenant_isolation.warn) == 0 with input as doc
}

test_single_tenant_compute_fabric_warns if {
	doc := {"resource_changes": [fabric("compute", "infiniband", "none", []), cluster("a", "fabric.compute")]}
	count(tenant_isolation.deny) == 0 with input as doc
	ws := tenant_isolation.warn with input as doc
	some w in ws
	w.attribute == "isolation"
	count(tenant_isolation.warn) == 0 with input as doc with data.params.isolation_warn_unshared_compute as false
}

test_isolation_must_fit_transport if {
	ds := tenant_isolation.deny with input as {"resource_changes": [fabric("compute", "roce", "pkey", ["0x8001"])]}
	some d in ds
	contains(d.msg, "needs InfiniBand")
	ds2 := tenant_isolation.deny with input as {"resource_changes": [fabric("compute", "infiniband", "vlan", [])]}
	some d2 in ds2
	contains(d2.msg, "does not apply to InfiniBand")
}

test_default_pkey_denied if {
	ds := tenant_isolation.deny with input as {"resource_changes": [fabric("compute", "infiniband", "pkey", ["0x7FFF"])]}
	some d in ds
	d.attribute == "partitions"
}

test_pkey_without_partitions_warns if {
	ws := tenant_isolation.warn with input as {"resource_changes": [fabric("compute", "infiniband", "pkey", [])]}
	some w in ws
	contains(w.msg, "no partitions")
}
