# METADATA
# title: Encryption in transit
# description: |
#   Storage client traffic (storage encryption_in_transit, e.g. Ceph msgr2 secure mode)
#   and DR replication between sites (dr_site encrypt_in_transit) must be encrypted:
#   replication crosses sites and networks fabrica does not control.
package fabrica.security.encryption_in_transit

import data.fabrica.lib

deny contains lib.finding(msg, rc.address, "encryption_in_transit") if {
	some rc in lib.changes.storage
	lib.get(rc.after, "encryption_in_transit", false) != true
	msg := sprintf(
		"%s client traffic is not encrypted in transit. Set encryption_in_transit = true (for Ceph, msgr2 secure mode).",
		[lib.get(rc.after, "kind", "storage")],
	)
}

deny contains lib.finding(msg, rc.address, "encrypt_in_transit") if {
	some rc in lib.changes.dr_site
	lib.get(rc.after, "encrypt_in_transit", false) != true
	msg := sprintf(
		"replication from %v to %v is not encrypted in transit, though it crosses sites. Set encrypt_in_transit = true.",
		[lib.get(rc.after, "primary", "the primary"), lib.get(rc.after, "secondary", "the secondary")],
	)
}
