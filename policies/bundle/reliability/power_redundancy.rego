# METADATA
# title: Power redundancy for GPU pods
# description: |
#   A facility hosting at least params.redundancy_min_gpus GPUs (default 256, one
#   DGX H100 scalable unit) needs redundant power (power_redundancy in
#   params.redundancy_power, default "2N" or "N+1") and Uptime tier of at least
#   params.redundancy_min_tier (default 3), as NVIDIA's SuperPOD reference
#   architecture asks: one failed feed or UPS would otherwise stop every job at once.
# related_resources:
#   - ref: https://docs.nvidia.com/dgx-superpod/reference-architecture-scalable-infrastructure-gb200/latest/dgx-superpod-architecture.html
#     description: DGX SuperPOD GB200 reference architecture
package fabrica.reliability.power_redundancy

import data.fabrica.lib

pods contains [addr, fac, gpus] if {
	some addr, s in lib.facility_summary
	gpus := lib.num(s, "gpus", 0)
	gpus >= data.params.redundancy_min_gpus
	fac := lib.by_address[addr]
}

deny contains lib.finding(msg, fac.address, "power_redundancy") if {
	some [_, fac, gpus] in pods
	red := lib.get(fac.after, "power_redundancy", "N")
	not red in data.params.redundancy_power
	msg := sprintf(
		"facility hosts %v GPUs on power_redundancy = %q: one failed feed or UPS stops every job. Use one of %s.",
		[gpus, red, concat(", ", [sprintf("%q", [r]) | some r in data.params.redundancy_power])],
	)
}

deny contains lib.finding(msg, fac.address, "tier") if {
	some [_, fac, gpus] in pods
	tier := lib.num(fac.after, "tier", 0)
	tier < data.params.redundancy_min_tier
	msg := sprintf(
		"facility hosts %v GPUs at %s; a GPU pod of this size needs Uptime tier %v or higher. Set tier (and build) accordingly.",
		[gpus, tier_phrase(tier), data.params.redundancy_min_tier],
	)
}

tier_phrase(0) := "an unknown tier"

tier_phrase(t) := sprintf("tier %v", [t]) if t != 0
