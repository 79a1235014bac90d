# METADATA
# title: Shared helpers
# description: |
#   Helpers the bundled policies share, and that user policies may import
#   (import data.fabrica.lib). Everything here reads only the plan JSON (input).
package fabrica.lib

# kinds lists the resource kinds of the language.
kinds := {"facility", "hardware", "fabric", "storage", "training_cluster", "training_job", "dr_site"}

# by_kind groups input.resource_changes by kind, every action included. It is built in
# one pass (OPA indexes the comprehension by kind), however many kinds are read: index
# by kind through it, or through changes, rather than scanning input.resource_changes
# in every rule.
by_kind := {kind: [rc | rc := input.resource_changes[_]; rc.kind == kind] | some kind in kinds}

# changes[kind] lists the changes of one kind that the plan keeps (every action but
# delete), each with its after attributes, for every kind but hardware (see hardware).
# It is grouped from the changes that are not hardware, so a plan of 100,000 servers
# does not build their list (as by_kind does) unless a rule reads it.
changes := {kind: kept([rc | some rc in not_hardware; rc.kind == kind]) | some kind in kinds; kind != "hardware"}

# (rc := list[_] rather than some rc in list: OPA enumerates it in half the time, which
# over 100,000 changes is 0.1 s.) A fabrica check evaluates this rule in Go, as long as it
# reads exactly as here (policies/intrinsic.go; a test fails when they drift apart).
not_hardware := [rc | rc := input.resource_changes[_]; rc.kind != "hardware"]

# hardware lists the kept hardware changes. A plan may hold 100,000 of them: prefer the
# per-facility and per-rack figures of facility_summary where they suffice.
hardware := kept(by_kind.hardware)

# kept filters a list of changes to those the plan keeps.
kept(list) := [rc | some rc in list; rc.action != "delete"; is_object(rc.after)]

# by_address maps the address of every kept change but hardware to the change. It is
# one object, built once per check: as a partial rule, each lookup would scan every
# change again (800 clusters × 2,000 changes took seconds).
by_address := {rc.address: rc | some list in changes; some rc in list}

# facility_summary maps each facility that the plan keeps to its figures after the plan
# (plan JSON aggregates[].after).
facility_summary[agg.address] := agg.after if {
	some agg in input.aggregates
	is_object(agg.after)
}

# facility_before maps each facility that exists before the plan to its figures then.
facility_before[agg.address] := agg.before if {
	some agg in input.aggregates
	is_object(agg.before)
}

# get returns obj[key] when obj is an object holding a non-null key, else the fallback.
get(obj, key, fallback) := v if {
	is_object(obj)
	v := obj[key]
	v != null
} else := fallback

# num returns obj[key] when it is a number, else the fallback.
num(obj, key, fallback) := v if {
	v := get(obj, key, fallback)
	is_number(v)
} else := fallback

# finding builds a finding about one attribute of a resource.
finding(msg, address, attribute) := {"msg": msg, "address": address, "attribute": attribute}

# now_ns is the time of the check (Options.Now in fabrica; mock time.now_ns in tests).
now_ns := time.now_ns()

day_ns := ((24 * 60) * 60) * 1000000000

# valid_date holds for a calendar date written YYYY-MM-DD. It checks the date without
# time.parse_ns, whose error on a bad date would stop the whole check.
valid_date(s) if {
	is_string(s)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, s)
	parts := split(s, "-")
	y := to_number(parts[0])
	m := to_number(parts[1])
	d := to_number(parts[2])
	m >= 1
	m <= 12
	d >= 1
	d <= days_in_month(y, m)
}

days_in_month(y, 2) := 29 if leap(y)

days_in_month(y, 2) := 28 if not leap(y)

days_in_month(_, m) := 30 if m in {4, 6, 9, 11}

days_in_month(_, m) := 31 if m in {1, 3, 5, 7, 8, 10, 12}

leap(y) if {
	y % 4 == 0
	y % 100 != 0
}

leap(y) if y % 400 == 0

# date_ns is the start of a valid YYYY-MM-DD date (UTC) in nanoseconds.
date_ns(s) := time.parse_ns("2006-01-02", s) if valid_date(s)

# round1 rounds to one decimal.
round1(x) := round(x * 10) / 10
