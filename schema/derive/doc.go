// Package derive owns the planner's arithmetic: the pure functions behind
// every derived, read-only attribute of DESIGN.md §3 and the formulas of
// shared/domain.md §2. Each function takes plain Go values and returns plain
// Go values; the package knows nothing of HCL, cty, source ranges or
// providers, and imports nothing from the module. Its tests reproduce the
// worked examples of domain.md, which cites the sources ([S4], [S22], …)
// that the comments here refer to.
//
// What it covers, by file:
//
//   - fabric.go: SizeFabric (leaf/spine/core counts, links, transceivers,
//     bisection, switch power), TwoTierLimit, ParseOversubscription (§2.1).
//   - power.go: Facility (IT × PUE, headroom, annual MWh and CO₂, DCiE) and
//     FeedCapacityKW (§2.2).
//   - cooling.go: AirflowCFM, WaterFlowLPM, RackCoolingLimitKW, CoolingKind
//     and CoolingSatisfies (§2.3).
//   - memory.go: MemoryPerGPU, CheckLayout and CheckModel (§2.4).
//   - storage.go: SizeStorage (§2.5).
//   - dr.go: DR and DistanceKM (§2.6).
//
// Units are in names or field comments: kW, GB = 10⁹ bytes, TB = 10¹²
// bytes, Gb/s = 10⁹ bits/s, minutes and hours as named. Zero values in
// input structs take documented defaults, so the caller can pass what the
// user wrote without filling gaps itself.
//
// Errors about user input are *InputError values: Field names the
// attribute at fault, and the message is full sentences that say what is
// wrong and how to fix it, because the caller shows it as a diagnostic
// detail after attaching the source range. Sentinels (ErrNeedThreeTier, …)
// let callers tell classes apart with errors.Is. Layout and model checks
// return []LayoutIssue instead, since several can apply at once and some are
// warnings.
//
// Validation that needs more than one resource (rack load against feeds,
// job nodes against the cluster) belongs to the schema and planner
// packages, which call these functions; policy thresholds (PUE limits,
// density warnings) belong to the policies.
package derive
