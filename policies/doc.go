// Package policies checks plans against OPA policies written in Rego: the bundled
// security, energy and reliability policies (policies/bundle, embedded in the binary)
// and users' own. It owns the engine (loading and compiling bundles, parameters,
// waivers, evaluation, Rego tests) and the bundled Rego; rendering reports belongs to
// policies/report, and running the checks from plan, apply and `fabrica policy` to the
// CLI. It reads only the plan JSON (DESIGN.md §5), never the planner's Go types, and
// imports nothing of fabrica's but schema/diag.
//
// # Using the engine
//
// Load compiles every bundle once into one prepared query; Check evaluates it over a
// plan document (the JSON that `plan --json` and `show --json` print, or a plan file)
// and returns a Report of findings; CheckPlan does the same for a plan held in memory
// (what plan, apply and policy check use), with the same input, without writing and
// reading its JSON;
// RunTests runs Rego tests (test_* rules) with OPA's tester. An Engine is safe for
// concurrent use.
//
// # Conventions (as conftest)
//
// A policy is a Rego v1 package fabrica.<area>.<name>, e.g. fabrica.energy.pue. Its
// rules named deny or violation (denies) and warn (warnings), optionally with a suffix
// (deny_tls, warn_size), produce sets of results. A result is an object
// {"msg": "...", "address": "facility.pod", "attribute": "design_pue"} (address and
// attribute optional; "message" is accepted for "msg") or a bare string; a boolean rule
// (deny if ...) that holds yields one finding with the rule's title. Functions and
// packages outside fabrica. are not run; a deny or warn rule outside fabrica. gets a
// warning at Load.
//
// The rule id of a finding is the package path without "fabrica." plus the rule name:
// energy.pue.deny, security.secrets.deny, custom.storage_size.warn_bare.
//
// A finding's Range is the range of the attribute the rule named in the plan's
// attribute_ranges (by resource: "hardware.gpu" for "hardware.gpu[3]"; in plan format
// 1.0, the change's own attribute_ranges), with "protection.replicas" falling back to
// "protection", else the change's decl_range; file names are made relative to
// Options.BaseDir. Rules do not see attribute_ranges: placing findings is the engine's
// job, and decoding them would cost a large plan a fifth of its check. They must still
// be valid JSON.
//
// # Input
//
// Policies read input, the plan document, without attribute_ranges (above). Only the changes that the plan keeps are
// checked: the bundled policies read each change's after attributes (arguments and
// derived figures together) through data.fabrica.lib.changes, which skips action
// "delete"; facility-wide figures come from input.aggregates (lib.facility_summary,
// lib.facility_before), whose after holds rack_load_kw, max_rack_kw, rack_cooling and
// rack_cooling_limit_kw. Policies should index by kind through lib.changes or
// lib.by_kind (built in one pass) rather than scan input.resource_changes per rule: a
// plan may hold 100,000 hardware instances.
//
// # Parameters
//
// data.params holds the parameters: the defaults that each bundle declares in a
// params.json at its root (the bundled ones are listed in bundle/README.md), with
// Options.Params laid over them (an object value merges key by key into an object
// default). A parameter that no bundle declares, or whose value has another JSON type
// than its default, is an error at Load that names it and lists the known ones; so a
// user bundle that wants parameters declares them, with defaults, in its params.json.
//
// # Waivers
//
// A Waiver accepts findings until it expires. Its Rule is a rule id
// ("energy.pue.deny"), a package ("energy.pue": deny and warn) or an area ("energy");
// its Address an instance, a resource (all its instances), a * pattern, or empty (every
// resource). A finding that a waiver in force matches becomes Waived (deny or warn
// alike) and carries the waiver. Once expired (Options.Now at or after Expires;
// ParseExpiry makes "YYYY-MM-DD" hold through that day, UTC), the waiver covers nothing:
// its findings count as what they are, carry it (Finding.WaiverExpired), and the report
// gets a WaiverNote of kind expired; a waiver in force that matches nothing gets one of
// kind unmatched. A waiver without a reason or expiry, or naming no loaded rule, is an
// error at Load.
//
// # Time, errors and safety
//
// time.now_ns() in Rego is Options.Now (tests mock it with `with time.now_ns as`).
// Built-in errors are raised (StrictBuiltinErrors): a rule that fails at evaluation
// makes Check return an *EvalError naming the rule and its .rego file and line, as does
// a result of the wrong shape; a document that is not a plan is a *PlanError. Rego
// syntax and compile errors are diagnostics at the .rego file and line. http.send,
// net.lookup_ip_addr and opa.runtime are refused: a check never leaves the machine.
//
// # Performance
//
// Load compiles once; Check decodes the plan JSON straight into OPA's values in one
// pass, sharing identical subtrees (every instance of a counted resource has the same
// ranges), and CheckPlan converts a plan's changes into the same values directly;
// every rule is evaluated in one query, so shared helpers are computed once.
// A plan of 100,000 hardware instances checks in well under a second; see
// BENCHMARKS.md.
package policies
