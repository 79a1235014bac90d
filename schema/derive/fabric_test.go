package derive

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// suInput is an H100 SuperPOD compute fabric of n scalable units: 32 DGX
// nodes × 8 rails of 400 G per SU on radix-64 QM9700 switches [S4].
func suInput(n int) FabricInput {
	return FabricInput{Endpoints: 256 * n, Nodes: 32 * n, RailsPerNode: 8, Radix: 64, PortSpeedGbps: 400}
}

// fabricCase is one worked example for SizeFabric.
type fabricCase struct {
	name string
	in   FabricInput
	want FabricSizing
}

func runFabricCases(t *testing.T, tests []fabricCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SizeFabric(tt.in)
			if err != nil {
				t.Fatalf("SizeFabric: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, exact); diff != "" {
				t.Errorf("SizeFabric mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSizeFabric_superPOD checks domain.md §2.1 against NVIDIA's H100
// SuperPOD table [S4].
func TestSizeFabric_superPOD(t *testing.T) {
	fullSU3 := suInput(3)
	fullSU3.SpineSizing = SpineSizingFullSU
	runFabricCases(t, []fabricCase{
		{
			// domain.md §2.1: 1 SU → 8 leaf, 4 spine, 256 + 256 cables.
			name: "1 SU",
			in:   suInput(1),
			want: FabricSizing{EndpointPorts: 256, LeafSwitches: 8, SpineSwitches: 4, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 256, SwitchLinks: 256, Transceivers: 32*4 + (256+512)/2, BisectionGbps: 51200, PowerKW: 12 * 1.7},
		},
		{
			// domain.md §2.1: 4 SU → 32 leaf, 16 spine, 1,024 leaf–spine cables.
			name: "4 SU",
			in:   suInput(4),
			want: FabricSizing{EndpointPorts: 1024, LeafSwitches: 32, SpineSwitches: 16, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 1024, SwitchLinks: 1024, Transceivers: 128*4 + (1024+2048)/2, BisectionGbps: 204800, PowerKW: 48 * 1.7},
		},
		{
			// domain.md §2.1: the formula gives 12 spines for 3 SU; 32 uplinks
			// do not divide by 12, hence the warning.
			name: "3 SU current",
			in:   suInput(3),
			want: FabricSizing{EndpointPorts: 768, LeafSwitches: 24, SpineSwitches: 12, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 768, SwitchLinks: 768, Transceivers: 96*4 + (768+1536)/2, BisectionGbps: 153600, PowerKW: 36 * 1.7,
				Warnings: []string{`Each leaf's 32 uplinks do not split evenly over 12 spine switches: some leaf–spine pairs get 3 links and others 2, so traffic spreads unevenly. Set spine_sizing = "full_su" to provision spines that divide the uplinks, for example 16 with 2 links per pair.`}},
		},
		{
			// domain.md §2.1: NVIDIA provisions 16 spines for 3 SU.
			name: "3 SU full_su",
			in:   fullSU3,
			want: FabricSizing{EndpointPorts: 768, LeafSwitches: 24, SpineSwitches: 16, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 768, SwitchLinks: 768, Transceivers: 96*4 + (768+1536)/2, BisectionGbps: 153600, PowerKW: 40 * 1.7},
		},
	})
}

func TestSizeFabric_twoTier(t *testing.T) {
	runFabricCases(t, []fabricCase{
		{
			// domain.md §2.1 3:1 example: down 48, up 16, L = 22, 352 uplinks,
			// S = ⌈5.5⌉ = 6 raised to 8, 2 links per leaf–spine pair.
			name: "3:1 leaf_spine",
			in:   FabricInput{Endpoints: 1024, Nodes: 128, RailsPerNode: 8, Radix: 64, Down: 3, Up: 1, PortSpeedGbps: 400, Topology: TopologyLeafSpine},
			want: FabricSizing{EndpointPorts: 1024, LeafSwitches: 22, SpineSwitches: 8, LeafDownPorts: 48, LeafUpPorts: 16,
				NodeLinks: 1024, SwitchLinks: 352, Transceivers: 128*4 + (1024+704)/2, BisectionGbps: 1024 * 400 / 2 / 3.0, PowerKW: 30 * 1.7},
		},
		{
			// Two-tier limit R²/2 = 2,048 endpoints: 64 leaves, 32 spines.
			name: "8 SU at the two-tier limit",
			in:   suInput(8),
			want: FabricSizing{EndpointPorts: 2048, LeafSwitches: 64, SpineSwitches: 32, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 2048, SwitchLinks: 2048, Transceivers: 256*4 + (2048+4096)/2, BisectionGbps: 409600, PowerKW: 96 * 1.7},
		},
		{
			// A partial SU still gets one leaf per rail (domain.md §3).
			name: "10 nodes rail_optimized",
			in:   FabricInput{Endpoints: 80, Nodes: 10, RailsPerNode: 8, PortSpeedGbps: 400},
			want: FabricSizing{EndpointPorts: 80, LeafSwitches: 8, SpineSwitches: 4, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 80, SwitchLinks: 256, Transceivers: 10*4 + (80+512)/2, BisectionGbps: 16000, PowerKW: 12 * 1.7},
		},
		{
			name: "10 nodes leaf_spine",
			in:   FabricInput{Endpoints: 80, Nodes: 10, RailsPerNode: 8, PortSpeedGbps: 400, Topology: TopologyLeafSpine},
			want: FabricSizing{EndpointPorts: 80, LeafSwitches: 3, SpineSwitches: 2, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 80, SwitchLinks: 96, Transceivers: 10*4 + (80+192)/2, BisectionGbps: 16000, PowerKW: 5 * 1.7},
		},
		{
			// full_su rounds leaves up to whole SUs: 40 nodes = 2 SUs = 16 leaves.
			name: "40 nodes leaf_spine full_su",
			in:   FabricInput{Endpoints: 320, Nodes: 40, RailsPerNode: 8, PortSpeedGbps: 400, Topology: TopologyLeafSpine, SpineSizing: SpineSizingFullSU},
			want: FabricSizing{EndpointPorts: 320, LeafSwitches: 16, SpineSwitches: 8, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 320, SwitchLinks: 512, Transceivers: 40*4 + (320+1024)/2, BisectionGbps: 64000, PowerKW: 24 * 1.7},
		},
		{
			// One leaf needs no spine tier; a 1-rail node still needs a module.
			name: "single leaf",
			in:   FabricInput{Endpoints: 20, Nodes: 20, PortSpeedGbps: 100, Topology: TopologyLeafSpine, SwitchPowerKW: 0.5},
			want: FabricSizing{EndpointPorts: 20, LeafSwitches: 1, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 20, Transceivers: 20 + 10, BisectionGbps: 1000, PowerKW: 0.5},
		},
	})
}

func TestSizeFabric_threeTier(t *testing.T) {
	b200 := FabricInput{Endpoints: 4096, Nodes: 512, RailsPerNode: 8, PortSpeedGbps: 400, Topology: TopologyThreeTier}
	full := FabricInput{Endpoints: 65536, Nodes: 65536, RailsPerNode: 1, PortSpeedGbps: 400, Topology: TopologyThreeTier}
	partial := FabricInput{Endpoints: 2112, Nodes: 2112, RailsPerNode: 1, PortSpeedGbps: 400, Topology: TopologyThreeTier}
	partialFull := partial
	partialFull.SpineSizing = SpineSizingFullSU
	runFabricCases(t, []fabricCase{
		{
			// domain.md §2.1: B200 16 SU = 512 nodes → 128 leaf + 128 spine + 64 core [S5].
			name: "B200 16 SU",
			in:   b200,
			want: FabricSizing{EndpointPorts: 4096, LeafSwitches: 128, SpineSwitches: 128, CoreSwitches: 64, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 4096, SwitchLinks: 8192, Transceivers: 512*4 + (4096+16384)/2, BisectionGbps: 819200, PowerKW: 320 * 1.7},
		},
		{
			// domain.md §2.1: k = 64 fat tree, 65,536 hosts, 5,120 switches [S13].
			name: "k=64 full fat tree",
			in:   full,
			want: FabricSizing{EndpointPorts: 65536, LeafSwitches: 2048, SpineSwitches: 2048, CoreSwitches: 1024, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 65536, SwitchLinks: 131072, Transceivers: 65536 + (65536+262144)/2, BisectionGbps: 13107200, PowerKW: 5120 * 1.7},
		},
		{
			// 66 leaves = two full pods and a 2-leaf pod with 2 spines.
			name: "partial pod current",
			in:   partial,
			want: FabricSizing{EndpointPorts: 2112, LeafSwitches: 66, SpineSwitches: 66, CoreSwitches: 33, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 2112, SwitchLinks: 4224, Transceivers: 2112 + (2112+8448)/2, BisectionGbps: 422400, PowerKW: 165 * 1.7},
		},
		{
			name: "partial pod full_su",
			in:   partialFull,
			want: FabricSizing{EndpointPorts: 2112, LeafSwitches: 66, SpineSwitches: 96, CoreSwitches: 48, LeafDownPorts: 32, LeafUpPorts: 32,
				NodeLinks: 2112, SwitchLinks: 5184, Transceivers: 2112 + (2112+10368)/2, BisectionGbps: 422400, PowerKW: 210 * 1.7},
		},
	})
}

func TestSizeFabric_errors(t *testing.T) {
	tests := []struct {
		name string
		in   FabricInput
		want wantErr
	}{
		{"beyond two tiers", suInput(9), wantErr{"topology", ErrNeedThreeTier, `Set topology = "three_tier"`}},
		{"beyond two tiers leaf_spine", FabricInput{Endpoints: 2049, PortSpeedGbps: 400, Topology: TopologyLeafSpine}, wantErr{"topology", ErrNeedThreeTier, "at most 64 leaves (2048 endpoint ports at 1:1)"}},
		{"beyond three tiers", FabricInput{Endpoints: 65537, Nodes: 65537, PortSpeedGbps: 400, Topology: TopologyThreeTier}, wantErr{"endpoints", ErrFabricTooLarge, "at most 64 pods"}},
		{"no endpoints", FabricInput{PortSpeedGbps: 400}, wantErr{"endpoints", nil, "no endpoint ports"}},
		{"odd radix", FabricInput{Endpoints: 8, Radix: 63, PortSpeedGbps: 400}, wantErr{"switch_radix", nil, "switch_radix = 63"}},
		{"half a ratio", FabricInput{Endpoints: 8, Down: 1, PortSpeedGbps: 400}, wantErr{"oversubscription", nil, "1:0"}},
		{"ratio too steep", FabricInput{Endpoints: 8, Down: 1, Up: 100, PortSpeedGbps: 400}, wantErr{"oversubscription", nil, "0 node ports"}},
		{"no port speed", FabricInput{Endpoints: 8}, wantErr{"port_speed_gbps", nil, "port_speed_gbps must be positive"}},
		{"unknown topology", FabricInput{Endpoints: 8, PortSpeedGbps: 400, Topology: "torus"}, wantErr{"topology", nil, `topology = "torus"`}},
		{"unknown spine sizing", FabricInput{Endpoints: 8, PortSpeedGbps: 400, SpineSizing: "max"}, wantErr{"spine_sizing", nil, `spine_sizing = "max"`}},
		{"negative nodes", FabricInput{Endpoints: 8, Nodes: -1, PortSpeedGbps: 400}, wantErr{"endpoints", nil, "negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SizeFabric(tt.in)
			if diff := cmp.Diff(FabricSizing{}, got); diff != "" {
				t.Errorf("SizeFabric returned a sizing with its error (-want +got):\n%s", diff)
			}
			checkInputErr(t, err, tt.want)
		})
	}
}

func TestTwoTierLimit(t *testing.T) {
	tests := []struct{ radix, want int }{{0, 2048}, {64, 2048}, {144, 10368}, {32, 512}}
	for _, tt := range tests {
		if got := TwoTierLimit(tt.radix); got != tt.want {
			t.Errorf("TwoTierLimit(%d) = %d, want %d", tt.radix, got, tt.want)
		}
	}
}

func TestParseOversubscription(t *testing.T) {
	tests := []struct {
		in       string
		down, up int
		wantErr  bool
	}{
		{"1:1", 1, 1, false},
		{"3:1", 3, 1, false},
		{" 2 : 1 ", 2, 1, false},
		{"3-1", 0, 0, true},
		{"3:", 0, 0, true},
		{"0:1", 0, 0, true},
		{"1.5:1", 0, 0, true},
		{"", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			down, up, err := ParseOversubscription(tt.in)
			if diff := cmp.Diff([]int{tt.down, tt.up}, []int{down, up}); diff != "" {
				t.Errorf("ParseOversubscription(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			if tt.wantErr {
				checkInputErr(t, err, wantErr{"oversubscription", nil, `such as "1:1"`})
			} else if err != nil {
				t.Errorf("ParseOversubscription(%q): %v", tt.in, err)
			}
		})
	}
}
