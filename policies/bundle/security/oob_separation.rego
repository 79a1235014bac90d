# METADATA
# title: Out-of-band management fabric kept separate
# description: |
#   BMC and management traffic belongs on its own out-of-band network, as NVIDIA's
#   SuperPOD keeps OOB as a separate fabric. A facility with at least
#   params.oob_required_min_gpus GPUs (default 64, eight 8-GPU nodes) must have a
#   fabric of kind "oob"; no training cluster may run its traffic over an "oob" fabric;
#   and an "oob" fabric is Ethernet, never InfiniBand.
# related_resources:
#   - ref: https://docs.nvidia.com/dgx-superpod/reference-architecture-scalable-infrastructure-h100/latest/network-fabrics.html
#     description: DGX SuperPOD network fabrics
package fabrica.security.oob_separation

import data.fabrica.lib

# has_oob holds every facility that has a fabric of kind "oob".
has_oob contains rc.after.facility if {
	some rc in lib.changes.fabric
	rc.after.kind == "oob"
}

deny contains {"msg": msg, "address": addr} if {
	some addr, s in lib.facility_summary
	gpus := lib.num(s, "gpus", 0)
	gpus >= data.params.oob_required_min_gpus
	not has_oob[addr]
	msg := sprintf(
		"facility hosts %v GPUs but has no fabric of kind \"oob\", so BMC and management traffic would share the compute or in-band fabrics. Add a fabric with kind = \"oob\" (Ethernet) over its hardware.",
		[gpus],
	)
}

deny contains lib.finding(msg, c.address, "fabric") if {
	some c in lib.changes.training_cluster
	f := lib.by_address[c.after.fabric]
	f.after.kind == "oob"
	msg := sprintf(
		"the cluster's fabric %s is the out-of-band management fabric; tenant traffic must never reach BMCs. Use a compute fabric.",
		[f.address],
	)
}

deny contains lib.finding(msg, rc.address, "transport") if {
	some rc in lib.changes.fabric
	rc.after.kind == "oob"
	rc.after.transport == "infiniband"
	msg := "an out-of-band management fabric is Ethernet (BMCs have no InfiniBand ports). Set transport = \"ethernet\"."
}
