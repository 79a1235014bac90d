# METADATA
# title: DR drills not overdue
# description: |
#   A disaster-recovery pairing is only as good as its last drill. A dr_site whose
#   drill.last (a date, YYYY-MM-DD) plus drill.interval_days (default
#   params.dr_drill_default_interval_days, 90) lies before the time of the check is
#   overdue and denied, as is a drill.last that is not a date. A dr_site without a
#   drill block or without drill.last warns, and so does an interval longer than
#   params.dr_drill_max_interval_days (default 365).
package fabrica.reliability.dr_drill

import data.fabrica.lib

drill(rc) := lib.get(rc.after, "drill", null)

interval_days(d) := lib.num(d, "interval_days", data.params.dr_drill_default_interval_days)

deny contains lib.finding(msg, rc.address, "drill.last") if {
	some rc in lib.changes.dr_site
	d := drill(rc)
	last := lib.get(d, "last", null)
	last != null
	not lib.valid_date(last)
	msg := sprintf("drill.last = %v is not a date; write it as YYYY-MM-DD.", [json.marshal(last)])
}

deny contains lib.finding(msg, rc.address, "drill.last") if {
	some rc in lib.changes.dr_site
	d := drill(rc)
	last := d.last
	lib.valid_date(last)
	days := interval_days(d)
	due := lib.date_ns(last) + (days * lib.day_ns)
	lib.now_ns > due
	ago := floor((lib.now_ns - lib.date_ns(last)) / lib.day_ns)
	msg := sprintf(
		"the last DR drill was on %s, %v days ago; with a drill every %v days it has been overdue since %s. Run a failover drill and update drill.last.",
		[last, ago, days, time.format([due, "UTC", "2006-01-02"])],
	)
}

warn contains {"msg": msg, "address": rc.address} if {
	some rc in lib.changes.dr_site
	drill(rc) == null
	msg := "no DR drill is on record: a recovery that was never rehearsed rarely meets its RTO. Add drill { interval_days, last } and run one."
}

warn contains lib.finding(msg, rc.address, "drill") if {
	some rc in lib.changes.dr_site
	d := drill(rc)
	d != null
	lib.get(d, "last", null) == null
	msg := "drill.last is not set: no drill is on record. Run a failover drill and record its date."
}

warn contains lib.finding(msg, rc.address, "drill.interval_days") if {
	some rc in lib.changes.dr_site
	d := drill(rc)
	d != null
	interval_days(d) > data.params.dr_drill_max_interval_days
	msg := sprintf(
		"drill.interval_days = %v is longer than %v: a yearly drill at least keeps the runbook current.",
		[interval_days(d), data.params.dr_drill_max_interval_days],
	)
}
