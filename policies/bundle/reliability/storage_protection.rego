# METADATA
# title: Storage protection level
# description: |
#   A storage cluster must survive the loss of two failure domains: replicated storage
#   keeps at least params.storage_min_replicas copies (default 3; an unset replicas is
#   the planner's default of 3), erasure-coded storage at least
#   params.storage_min_coding_chunks coding chunks (default 2, i.e. m >= 2).
# related_resources:
#   - ref: https://docs.ceph.com/en/mimic/rados/operations/erasure-code/
#     description: Ceph erasure coding
package fabrica.reliability.storage_protection

import data.fabrica.lib

# default_replicas is the planner's replica count when protection sets none.
default_replicas := 3

protection(rc) := lib.get(rc.after, "protection", {})

deny contains lib.finding(msg, rc.address, "protection.replicas") if {
	some rc in lib.changes.storage
	lib.get(protection(rc), "mode", "replicated") == "replicated"
	n := lib.num(protection(rc), "replicas", default_replicas)
	n < data.params.storage_min_replicas
	msg := sprintf(
		"%v replicas survive the loss of only %v %s. Use replicas >= %v, or erasure coding with coding_chunks >= %v.",
		[n, n - 1, lib.get(rc.after, "failure_domain", "host"), data.params.storage_min_replicas, data.params.storage_min_coding_chunks],
	)
}

deny contains lib.finding(msg, rc.address, "protection.coding_chunks") if {
	some rc in lib.changes.storage
	lib.get(protection(rc), "mode", "replicated") == "erasure"
	m := lib.num(protection(rc), "coding_chunks", 0)
	m < data.params.storage_min_coding_chunks
	msg := sprintf(
		"erasure coding with %v coding chunks survives the loss of only %v %s. Use coding_chunks >= %v (e.g. 4+2).",
		[m, m, lib.get(rc.after, "failure_domain", "host"), data.params.storage_min_coding_chunks],
	)
}
