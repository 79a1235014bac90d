# METADATA
# title: Storage encrypted at rest
# description: |
#   Every storage cluster must set encryption_at_rest = true (Ceph dm-crypt, self-
#   encrypting drives), so a lost or retired drive leaks no data.
package fabrica.security.encryption_at_rest

import data.fabrica.lib

deny contains lib.finding(msg, rc.address, "encryption_at_rest") if {
	some rc in lib.changes.storage
	lib.get(rc.after, "encryption_at_rest", false) != true
	msg := sprintf(
		"%s storage is not encrypted at rest: a lost or retired drive leaks its data. Set encryption_at_rest = true (dm-crypt or self-encrypting drives).",
		[lib.get(rc.after, "kind", "this")],
	)
}
