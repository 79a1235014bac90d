# METADATA
# title: Storage cluster size cap
# description: No storage cluster may have more than params.max_storage_nodes nodes.
package fabrica.custom.storage_size

import data.fabrica.lib

deny contains {"msg": sprintf("%d nodes is more than %d", [n, data.params.max_storage_nodes]), "address": rc.address, "attribute": "nodes"} if {
	some rc in lib.changes.storage
	n := rc.after.nodes
	n > data.params.max_storage_nodes
}

warn_bare contains "a bare string finding" if {
	count(lib.changes.storage) > 0
}
