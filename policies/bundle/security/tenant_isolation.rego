# METADATA
# title: Tenant isolation on shared fabrics
# description: |
#   A compute or storage fabric that carries more than one tenant needs isolation: the
#   tenants of a compute fabric are the training clusters that name it (fabric); those
#   of a storage fabric are the training clusters of its facility. With at least
#   params.isolation_shared_min_tenants tenants (default 2), isolation = "none" is
#   denied. A compute fabric with a single tenant and no isolation warns
#   (params.isolation_warn_unshared_compute). The isolation must fit the transport:
#   InfiniBand partitions (pkey) only on InfiniBand, VLAN or VRF only on RoCE/Ethernet;
#   and no tenant partition may be the default P_Key 0x7fff (0xffff for full members),
#   which every port belongs to.
# related_resources:
#   - ref: https://docs.nvidia.com/networking/display/ufmenterpriseumv6171/appendix+%E2%80%93+partitioning
#     description: InfiniBand partitioning (UFM)
#   - ref: https://www.juniper.net/documentation/us/en/software/jvd/jvd-ai-dc-evpn-multitenancy/evpnvxlan_gpu_backend_fabric_gpu_multitenancy.html
#     description: GPU multitenancy on EVPN-VXLAN
package fabrica.security.tenant_isolation

import data.fabrica.lib

default_pkeys := {"0x7fff", "0xffff", "7fff", "ffff", "default"}

isolation(rc) := lib.get(rc.after, "isolation", "none")

# tenants counts the training clusters whose traffic a fabric carries.
tenants(rc) := count([c |
	some c in lib.changes.training_cluster
	c.after.fabric == rc.address
]) if rc.after.kind == "compute"

tenants(rc) := count([c |
	some c in lib.changes.training_cluster
	c.after.facility == rc.after.facility
]) if rc.after.kind == "storage"

deny contains lib.finding(msg, rc.address, "isolation") if {
	some rc in lib.changes.fabric
	isolation(rc) == "none"
	n := tenants(rc)
	n >= data.params.isolation_shared_min_tenants
	msg := sprintf(
		"%s fabric carries %d training clusters but has isolation = \"none\", so every tenant reaches every other. Set isolation = \"pkey\" (InfiniBand) or \"vlan\"/\"vrf\" (RoCE, Ethernet) with one partition per tenant.",
		[rc.after.kind, n],
	)
}

warn contains lib.finding(msg, rc.address, "isolation") if {
	data.params.isolation_warn_unshared_compute == true
	some rc in lib.changes.fabric
	rc.after.kind == "compute"
	isolation(rc) == "none"
	tenants(rc) < data.params.isolation_shared_min_tenants
	msg := "compute fabric has no tenant isolation, so all its traffic shares one partition. Set isolation (pkey on InfiniBand, vlan or vrf on RoCE) before a second tenant arrives."
}

deny contains lib.finding(msg, rc.address, "isolation") if {
	some rc in lib.changes.fabric
	isolation(rc) == "pkey"
	rc.after.transport != "infiniband"
	msg := sprintf(
		"isolation = \"pkey\" needs InfiniBand, but transport = %q. Use \"vlan\" or \"vrf\" on RoCE and Ethernet.",
		[rc.after.transport],
	)
}

deny contains lib.finding(msg, rc.address, "isolation") if {
	some rc in lib.changes.fabric
	isolation(rc) in {"vlan", "vrf"}
	rc.after.transport == "infiniband"
	msg := sprintf(
		"isolation = %q does not apply to InfiniBand, which has no VLANs or VRFs. Use isolation = \"pkey\" with one partition key per tenant.",
		[isolation(rc)],
	)
}

deny contains lib.finding(msg, rc.address, "partitions") if {
	some rc in lib.changes.fabric
	isolation(rc) == "pkey"
	some p in lib.get(rc.after, "partitions", [])
	is_string(p)
	lower(p) in default_pkeys
	msg := sprintf(
		"partition %q is the default partition key, of which every port is a member, so it isolates nothing. Give each tenant its own non-default P_Key.",
		[p],
	)
}

warn contains lib.finding(msg, rc.address, "isolation") if {
	some rc in lib.changes.fabric
	isolation(rc) == "pkey"
	parts := lib.get(rc.after, "partitions", [])
	is_array(parts)
	count(parts) == 0
	msg := "isolation = \"pkey\" but no partitions are listed: name one partition per tenant in partitions."
}
