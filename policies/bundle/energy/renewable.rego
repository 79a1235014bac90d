# METADATA
# title: Renewable energy floor
# description: |
#   A facility that declares renewable_fraction warns when it is below
#   params.renewable_fraction_min (default 0.5). Facilities that do not declare it are
#   not checked.
package fabrica.energy.renewable

import data.fabrica.lib

warn contains lib.finding(msg, rc.address, "renewable_fraction") if {
	some rc in lib.changes.facility
	f := rc.after.renewable_fraction
	is_number(f)
	f < data.params.renewable_fraction_min
	msg := sprintf(
		"renewable_fraction = %v is below the floor of %v. Contract more renewable supply (PPA) or place the load in a greener facility.",
		[f, data.params.renewable_fraction_min],
	)
}
