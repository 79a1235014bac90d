# METADATA
# title: Design PUE ceiling
# description: |
#   A facility's design_pue must not exceed params.pue_deny (default 1.5, about the
#   industry average) and warns above params.pue_warn (default 1.3, what new large sites
#   reach). A jurisdiction may hold new builds to a stricter ceiling
#   (params.pue_new_build; default: Germany's Energy Efficiency Act, PUE 1.2 for data
#   centres that go into operation from 1 July 2026): a facility the plan creates in that
#   jurisdiction, on or after that date, is denied above it.
# related_resources:
#   - ref: https://intelligence.uptimeinstitute.com/resource/large-data-centers-are-mostly-more-efficient-analysis-confirms
#     description: Uptime Institute on average and new-site PUE
#   - ref: https://www.taylorwessing.com/en/insights-and-events/insights/2025/01/abwaerme-von-rechenzentren
#     description: EnEfG PUE requirements
package fabrica.energy.pue

import data.fabrica.lib

deny contains lib.finding(msg, rc.address, "design_pue") if {
	some rc in lib.changes.facility
	pue := rc.after.design_pue
	is_number(pue)
	limit := ceiling(rc)
	pue > limit.max
	msg := sprintf(
		"design_pue = %v exceeds the ceiling of %v%s. Improve the cooling design (warmer supply water, liquid cooling, free cooling) or lower the losses, then lower design_pue.",
		[pue, limit.max, limit.why],
	)
}

warn contains lib.finding(msg, rc.address, "design_pue") if {
	some rc in lib.changes.facility
	pue := rc.after.design_pue
	is_number(pue)
	pue > data.params.pue_warn
	pue <= ceiling(rc).max
	msg := sprintf(
		"design_pue = %v is above %v, what new large sites reach; every 0.1 of PUE costs about %v %% more energy.",
		[pue, data.params.pue_warn, lib.round1(10 / pue)],
	)
}

# ceiling is a facility's deny limit: the new-build ceiling of its jurisdiction when the
# plan creates it on or after that ceiling's date, else params.pue_deny.
ceiling(rc) := {"max": nb.max, "why": why} if {
	rc.action == "create"
	is_string(rc.after.jurisdiction)
	j := lower(rc.after.jurisdiction)
	nb := data.params.pue_new_build[j]
	lib.valid_date(nb.from)
	lib.now_ns >= lib.date_ns(nb.from)
	why := sprintf(" for new builds in jurisdiction %q from %s", [j, nb.from])
} else := {"max": data.params.pue_deny, "why": ""}
