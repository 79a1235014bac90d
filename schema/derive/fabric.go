package derive

import (
	"fmt"
	"strconv"
	"strings"
)

// Topology values for FabricInput.Topology.
const (
	TopologyRailOptimized = "rail_optimized"
	TopologyLeafSpine     = "leaf_spine"
	TopologyThreeTier     = "three_tier"
)

// Spine sizing values for FabricInput.SpineSizing.
const (
	SpineSizingCurrent = "current"
	SpineSizingFullSU  = "full_su"
)

// DefaultRadix is the switch radix used when FabricInput.Radix is 0: a
// Quantum-2 QM9700 has 64 × 400 G NDR ports [S14].
const DefaultRadix = 64

// DefaultSwitchPowerKW is the per-switch power used when
// FabricInput.SwitchPowerKW is 0. Proposal: about the QM9700's maximum with
// active optics; domain.md gives no sourced figure.
const DefaultSwitchPowerKW = 1.7

// FabricInput describes a fabric to size. Zero values take the defaults
// given per field. Rail alignment works per server board: pass a rack-scale
// system as its compute trays, so a GB200 NVL72 rack counts as 18 nodes of
// 4 rails (72 endpoints), not 1 node of 72 rails, which would ask
// rail_optimized for 72 leaves per scalable unit.
type FabricInput struct {
	Endpoints     int     // E = nodes × rails (caller computes; ports facing nodes)
	Nodes         int     // 0: derived as ⌈E / RailsPerNode⌉
	Radix         int     // switch radix R (DefaultRadix when 0)
	Down, Up      int     // oversubscription down:up (1:1 when both 0)
	PortSpeedGbps float64 // speed of every port
	Topology      string  // "rail_optimized" (default), "leaf_spine", "three_tier"
	SpineSizing   string  // "current" (default) or "full_su"
	RailsPerNode  int     // 0: derived as ⌈E / Nodes⌉, or 1 without Nodes
	SwitchPowerKW float64 // per switch (DefaultSwitchPowerKW when 0)
}

// FabricSizing is the derived bill of materials of a fabric. Spine switches
// are the aggregation tier in a three-tier fabric.
type FabricSizing struct {
	EndpointPorts, LeafSwitches, SpineSwitches, CoreSwitches int
	LeafDownPorts, LeafUpPorts                               int // per leaf
	NodeLinks, SwitchLinks, Transceivers                     int
	BisectionGbps                                            float64
	PowerKW                                                  float64 // switches only
	Warnings                                                 []string
}

// fabric is FabricInput after defaults, with the per-leaf port split.
type fabric struct {
	FabricInput
	down, up int // ports per leaf facing nodes and spines
}

// SizeFabric sizes a two-tier (rail_optimized, leaf_spine) or three-tier fat
// tree after domain.md §2.1.
//
// Leaves: each leaf has down = ⌊R·d/(d+u)⌋ node ports and up = R − down
// uplinks, all of them cabled. leaf_spine needs ⌈E/down⌉ leaves.
// rail_optimized puts each rail of a scalable unit (SU = down nodes) on its
// own leaf, so it needs rails × ⌈nodes/down⌉, and so does full_su sizing on
// any topology: NVIDIA builds a partial SU's leaves and cables in full [S4].
//
// Spines: at least ⌈L·up/R⌉. "current" raises that to the smallest count
// that divides the L·up uplinks, so every spine gets the same number of
// leaf links (3:1 example: 6 → 8), and warns when a leaf's uplinks then
// split unevenly over the spines (3 SU: 12 spines, 32 uplinks). "full_su"
// raises it to the smallest divisor of up, so every leaf–spine pair has
// up/S links; with power-of-two uplinks that is the next power of two, and
// it reproduces NVIDIA's 4, 8, 16, 16 spines for 1–4 SUs [S4]. A single leaf
// needs no spines.
//
// Three tiers are sized by sizeThreeTier; two tiers above R leaves (R·down
// endpoints, which is TwoTierLimit at 1:1) are an ErrNeedThreeTier error.
//
// Transceivers count twin-port OSFP modules, one per two links at each end:
// ⌈rails/2⌉ per node plus ⌈switch ports in use / 2⌉ over all switches.
// Bisection is E × port speed / 2, scaled by up/down when the leaves are
// oversubscribed; the tiers above the leaves are non-blocking.
func SizeFabric(in FabricInput) (FabricSizing, error) {
	f, err := normalizeFabric(in)
	if err != nil {
		return FabricSizing{}, err
	}
	leaves := ceilDiv(f.Endpoints, f.down)
	if f.Topology == TopologyRailOptimized || f.SpineSizing == SpineSizingFullSU {
		leaves = max(leaves, f.RailsPerNode*ceilDiv(f.Nodes, f.down))
	}
	var out FabricSizing
	if f.Topology == TopologyThreeTier {
		out, err = sizeThreeTier(f, leaves)
	} else {
		out, err = sizeTwoTier(f, leaves)
	}
	if err != nil {
		return FabricSizing{}, err
	}
	out.EndpointPorts = f.Endpoints
	out.LeafDownPorts, out.LeafUpPorts = f.down, f.up
	out.NodeLinks = f.Endpoints
	out.Transceivers = nodeTransceivers(f) + ceilDiv(f.Endpoints+2*out.SwitchLinks, 2)
	out.BisectionGbps = float64(f.Endpoints) * f.PortSpeedGbps / 2
	if f.up < f.down {
		out.BisectionGbps *= float64(f.up) / float64(f.down)
	}
	switches := out.LeafSwitches + out.SpineSwitches + out.CoreSwitches
	out.PowerKW = float64(switches) * f.SwitchPowerKW
	return out, nil
}

// normalizeFabric applies defaults and rejects figures no fabric can have.
func normalizeFabric(in FabricInput) (fabric, error) {
	f := fabric{FabricInput: in}
	if f.Endpoints <= 0 {
		return f, inputErr("endpoints", nil, "The fabric has no endpoint ports. List the hardware it connects in endpoints; each node contributes one port per rail.")
	}
	if f.Radix == 0 {
		f.Radix = DefaultRadix
	}
	if f.Radix < 4 || f.Radix%2 != 0 {
		return f, inputErr("switch_radix", nil, "switch_radix = %d cannot build a fat tree: a switch needs an even number of at least 4 ports to split between nodes and uplinks. Use the port count of the switch model, such as 64 for a Quantum-2 QM9700.", f.Radix)
	}
	if f.Down == 0 && f.Up == 0 {
		f.Down, f.Up = 1, 1
	}
	if f.Down < 1 || f.Up < 1 {
		return f, inputErr("oversubscription", nil, "The oversubscription %d:%d must have two positive whole numbers. Write it as \"down:up\", such as \"1:1\" or \"3:1\".", f.Down, f.Up)
	}
	f.down = f.Radix * f.Down / (f.Down + f.Up)
	f.up = f.Radix - f.down
	if f.down < 1 || f.up < 1 {
		return f, inputErr("oversubscription", nil, "An oversubscription of %d:%d leaves a radix-%d leaf with %d node ports and %d uplinks; it needs at least one of each. Use a ratio closer to 1:1.", f.Down, f.Up, f.Radix, f.down, f.up)
	}
	if f.PortSpeedGbps <= 0 {
		return f, inputErr("port_speed_gbps", nil, "port_speed_gbps must be positive; set it to the speed of the node NICs, such as 400.")
	}
	if err := normalizeTopology(&f); err != nil {
		return f, err
	}
	if f.Nodes < 0 || f.RailsPerNode < 0 {
		return f, inputErr("endpoints", nil, "The fabric has %d nodes with %d rails each; neither can be negative.", f.Nodes, f.RailsPerNode)
	}
	switch {
	case f.RailsPerNode == 0 && f.Nodes > 0:
		f.RailsPerNode = ceilDiv(f.Endpoints, f.Nodes)
	case f.RailsPerNode == 0:
		f.RailsPerNode = 1
	}
	if f.Nodes == 0 {
		f.Nodes = ceilDiv(f.Endpoints, f.RailsPerNode)
	}
	if f.SwitchPowerKW <= 0 {
		f.SwitchPowerKW = DefaultSwitchPowerKW
	}
	return f, nil
}

func normalizeTopology(f *fabric) error {
	switch f.Topology {
	case "":
		f.Topology = TopologyRailOptimized
	case TopologyRailOptimized, TopologyLeafSpine, TopologyThreeTier:
	default:
		return inputErr("topology", nil, "topology = %q is not a fabric topology fabrica knows. Use \"rail_optimized\", \"leaf_spine\" or \"three_tier\".", f.Topology)
	}
	switch f.SpineSizing {
	case "":
		f.SpineSizing = SpineSizingCurrent
	case SpineSizingCurrent, SpineSizingFullSU:
	default:
		return inputErr("spine_sizing", nil, "spine_sizing = %q is not known. Use \"current\" to size spines for the leaves built now, or \"full_su\" to provision them for full scalable units.", f.SpineSizing)
	}
	return nil
}

func sizeTwoTier(f fabric, leaves int) (FabricSizing, error) {
	if leaves > f.Radix {
		return FabricSizing{}, inputErr("topology", ErrNeedThreeTier,
			"The fabric needs %d leaf switches for %d endpoint ports, but a two-tier fabric of radix-%d switches connects at most %d leaves (%d endpoint ports at %d:%d). Set topology = \"three_tier\", or use switches with a larger switch_radix.",
			leaves, f.Endpoints, f.Radix, f.Radix, f.Radix*f.down, f.Down, f.Up)
	}
	out := FabricSizing{LeafSwitches: leaves}
	if leaves == 1 {
		return out, nil
	}
	spines := spineCount(leaves, f.up, f.Radix, f.SpineSizing == SpineSizingFullSU)
	out.SpineSwitches = spines
	out.SwitchLinks = leaves * f.up
	if w := unevenWarning(f.up, spines, "spine"); w != "" {
		out.Warnings = append(out.Warnings, w)
	}
	return out, nil
}

// sizeThreeTier sizes a k-ary fat tree (k = R) scaled to what is needed
// [S13]. Leaves (edge) come from SizeFabric. A pod is R/2 leaves whose
// uplinks land on the pod's spines (aggregation), each spine having R/2 leaf
// ports and R/2 core ports, all cabled. A full pod therefore has `up`
// spines; the last, partial pod is sized like a two-tier fabric with R/2
// spine ports ("current"), or as a full pod ("full_su"). Core switches =
// ⌈spines × R/2 / R⌉; a single pod needs no core. At most R pods fit, so
// the limit is R × R/2 leaves: for k = 64 at 1:1, 65,536 hosts on 2,048 +
// 2,048 + 1,024 = 5,120 switches. B200 SuperPOD, 16 SU = 4,096 endpoints:
// 128 leaves in 4 pods, 128 spines, 64 core [S5].
func sizeThreeTier(f fabric, leaves int) (FabricSizing, error) {
	half := f.Radix / 2
	pods := ceilDiv(leaves, half)
	if pods > f.Radix {
		return FabricSizing{}, inputErr("endpoints", ErrFabricTooLarge,
			"The fabric needs %d pods of %d leaf switches for %d endpoint ports, but a three-tier fat tree of radix-%d switches holds at most %d pods (%d endpoint ports at %d:%d). Split the endpoints over several fabrics, or use switches with a larger switch_radix.",
			pods, half, f.Endpoints, f.Radix, f.Radix, f.Radix*half*f.down, f.Down, f.Up)
	}
	fullSU := f.SpineSizing == SpineSizingFullSU
	fullPod := spineCount(half, f.up, half, true)
	lastLeaves := leaves - (pods-1)*half
	lastPod := fullPod
	if !fullSU && lastLeaves < half {
		lastPod = spineCount(lastLeaves, f.up, half, false)
	}
	out := FabricSizing{LeafSwitches: leaves}
	out.SpineSwitches = (pods-1)*fullPod + lastPod
	out.SwitchLinks = leaves * f.up
	if pods > 1 {
		out.CoreSwitches = ceilDiv(out.SpineSwitches*half, f.Radix)
		out.SwitchLinks += out.SpineSwitches * half
	}
	if w := unevenWarning(f.up, lastPod, "spine (aggregation)"); w != "" {
		out.Warnings = append(out.Warnings, w)
	}
	return out, nil
}

// spineCount returns how many spines serve `leaves` leaves of `up` uplinks
// each when every spine has `ports` ports facing the leaves. It relies on
// leaves ≤ ports, so `up` itself is always a valid answer.
func spineCount(leaves, up, ports int, evenPerLeaf bool) int {
	links := leaves * up
	for s := ceilDiv(links, ports); s < up; s++ {
		if evenPerLeaf && up%s == 0 || !evenPerLeaf && links%s == 0 {
			return s
		}
	}
	return up
}

// unevenWarning explains an uneven split of a leaf's uplinks, or returns "".
func unevenWarning(up, spines int, tier string) string {
	if spines == 0 || up%spines == 0 {
		return ""
	}
	even := spines
	for up%even != 0 {
		even++
	}
	return fmt.Sprintf("Each leaf's %d uplinks do not split evenly over %d %s switches: some leaf–spine pairs get %d links and others %d, so traffic spreads unevenly. Set spine_sizing = \"full_su\" to provision spines that divide the uplinks, for example %d with %d links per pair.",
		up, spines, tier, up/spines+1, up/spines, even, up/even)
}

// nodeTransceivers counts the twin-port modules on the node side.
func nodeTransceivers(f fabric) int {
	if f.Nodes*f.RailsPerNode == f.Endpoints {
		return f.Nodes * ceilDiv(f.RailsPerNode, 2)
	}
	return ceilDiv(f.Endpoints, 2)
}

// TwoTierLimit returns the most endpoint ports a non-blocking two-tier
// fabric of radix-R switches connects: R leaves × R/2 ports = R²/2 (2,048
// for R = 64) [S7]. A radix of 0 means DefaultRadix. With oversubscription
// the limit SizeFabric applies is R × down instead.
func TwoTierLimit(radix int) int {
	if radix == 0 {
		radix = DefaultRadix
	}
	return radix * radix / 2
}

// ParseOversubscription parses a "down:up" ratio such as "1:1" or "3:1"
// into whole numbers of at least 1. Spaces around the numbers are allowed.
// The error is an *InputError for the attribute "oversubscription".
func ParseOversubscription(s string) (down, up int, err error) {
	if d, u, ok := strings.Cut(s, ":"); ok {
		dn, err1 := strconv.Atoi(strings.TrimSpace(d))
		un, err2 := strconv.Atoi(strings.TrimSpace(u))
		if err1 == nil && err2 == nil && dn >= 1 && un >= 1 {
			return dn, un, nil
		}
	}
	return 0, 0, inputErr("oversubscription", nil, "oversubscription = %q is not a ratio of two positive whole numbers. Write it as \"down:up\", such as \"1:1\" for a non-blocking fabric or \"3:1\".", s)
}
