# METADATA
# title: DR secondary in a distinct, distant facility
# description: |
#   A dr_site's secondary must be another facility than its primary, at least
#   params.dr_min_distance_km apart (default 100 km, a proposal: there is no sourced
#   default), so that one regional event (flood, grid failure) cannot take out both.
#   When the distance is unknown (a facility without latitude and longitude) it warns.
package fabrica.security.dr_separation

import data.fabrica.lib

deny contains lib.finding(msg, rc.address, "secondary") if {
	some rc in lib.changes.dr_site
	rc.after.primary == rc.after.secondary
	msg := sprintf(
		"primary and secondary are the same facility (%v): one failure takes out both. Replicate to another facility.",
		[rc.after.primary],
	)
}

deny contains lib.finding(msg, rc.address, "secondary") if {
	some rc in lib.changes.dr_site
	rc.after.primary != rc.after.secondary
	d := rc.after.distance_km
	is_number(d)
	d < data.params.dr_min_distance_km
	msg := sprintf(
		"secondary %v is %v km from primary %v, closer than the %v km that keeps them out of one regional event. Choose a more distant secondary.",
		[rc.after.secondary, lib.round1(d), rc.after.primary, data.params.dr_min_distance_km],
	)
}

warn contains lib.finding(msg, rc.address, "secondary") if {
	some rc in lib.changes.dr_site
	rc.after.primary != rc.after.secondary
	not is_number(lib.get(rc.after, "distance_km", null))
	msg := "the distance between primary and secondary is unknown. Set latitude and longitude on both facilities so their separation can be checked."
}
