package catalog

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNames(t *testing.T) {
	want := []string{"cpu-server", "dgx-b200", "dgx-h100", "dgx-h200", "gb200-nvl72", "storage-server"}
	if diff := cmp.Diff(want, Names()); diff != "" {
		t.Errorf("Names() mismatch (-want +got):\n%s", diff)
	}
	if !slices.IsSorted(Names()) {
		t.Errorf("Names() is not sorted")
	}
}

func TestBuiltin_returnsCopy(t *testing.T) {
	first := Builtin()
	first["dgx-h100"] = DeviceType{Name: "changed"}
	first["mine"] = DeviceType{Name: "mine"}
	delete(first, "cpu-server")

	second := Builtin()
	if got := second["dgx-h100"].MaxPowerKW; got != 10.2 {
		t.Errorf("dgx-h100 MaxPowerKW after caller edit = %v, want 10.2", got)
	}
	if _, ok := second["mine"]; ok {
		t.Errorf("an entry added by a caller leaked into the catalog")
	}
	if _, ok := second["cpu-server"]; !ok {
		t.Errorf("an entry deleted by a caller vanished from the catalog")
	}
}

// TestBuiltin_sane checks every entry against rules that hold for any real
// server, so a typo in a figure fails here rather than in a plan.
func TestBuiltin_sane(t *testing.T) {
	for name, d := range Builtin() {
		t.Run(name, func(t *testing.T) {
			if d.Name != name {
				t.Errorf("Name = %q, want the map key %q", d.Name, name)
			}
			if d.MaxPowerKW <= 0 || d.RackUnits <= 0 || d.PSUCount <= 0 || d.Rails <= 0 || d.NICSpeedGbps <= 0 {
				t.Errorf("power, U, PSUs, rails and NIC speed must be positive: %+v", d)
			}
			if d.RackUnits > 48 {
				t.Errorf("RackUnits = %d, more than a 48 U rack", d.RackUnits)
			}
			if n := psuTotal(t, d.PSURedundancy); n != d.PSUCount {
				t.Errorf("PSURedundancy %q adds up to %d, PSUCount is %d", d.PSURedundancy, n, d.PSUCount)
			}
			if d.CoolingRequired != CoolingAir && d.CoolingRequired != CoolingLiquid {
				t.Errorf("CoolingRequired = %q, want air or liquid", d.CoolingRequired)
			}
			if (d.DrivesPerNode > 0) != (d.DriveTB > 0) {
				t.Errorf("DrivesPerNode %d and DriveTB %v must both be set or both zero", d.DrivesPerNode, d.DriveTB)
			}
			if d.GPUs > 0 {
				checkGPUSystem(t, d)
			} else if d.GPUModel != "" || d.GPUMemoryGB != 0 || d.GPUTDPW != 0 || d.NVLinkDomain != 0 {
				t.Errorf("a device without GPUs must leave every GPU field zero: %+v", d)
			}
		})
	}
}

func checkGPUSystem(t *testing.T, d DeviceType) {
	t.Helper()
	if d.GPUModel == "" || d.GPUMemoryGB <= 0 || d.GPUTDPW <= 0 || d.NVLinkDomain <= 0 {
		t.Errorf("GPU model, memory, TDP and NVLink domain must be set: %+v", d)
	}
	if d.NVLinkDomain > 0 && d.GPUs%d.NVLinkDomain != 0 {
		t.Errorf("%d GPUs do not fill whole NVLink domains of %d", d.GPUs, d.NVLinkDomain)
	}
	// The GPUs alone must draw less than the nameplate maximum.
	if gpuKW := float64(d.GPUs) * d.GPUTDPW / 1000; gpuKW >= d.MaxPowerKW {
		t.Errorf("GPUs draw %.1f kW, not below MaxPowerKW %.1f", gpuKW, d.MaxPowerKW)
	}
}

// psuTotal adds up an "N+M" redundancy string.
func psuTotal(t *testing.T, s string) int {
	t.Helper()
	n, m, ok := strings.Cut(s, "+")
	if !ok {
		t.Fatalf("PSURedundancy %q is not N+M", s)
	}
	a, err1 := strconv.Atoi(n)
	b, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil {
		t.Fatalf("PSURedundancy %q is not N+M", s)
	}
	return a + b
}

// TestBuiltin_domainFigures pins the sourced figures of domain.md §1 so a
// change to them is deliberate.
func TestBuiltin_domainFigures(t *testing.T) {
	tests := []struct {
		name string
		want DeviceType
	}{
		{"dgx-h100", DeviceType{Name: "dgx-h100", GPUs: 8, GPUModel: "H100", GPUMemoryGB: 80, GPUTDPW: 700, MaxPowerKW: 10.2, RackUnits: 8, PSUCount: 6, PSURedundancy: "4+2", Rails: 8, NICSpeedGbps: 400, CoolingRequired: "air", NVLinkDomain: 8}},
		{"dgx-b200", DeviceType{Name: "dgx-b200", GPUs: 8, GPUModel: "B200", GPUMemoryGB: 180, GPUTDPW: 1000, MaxPowerKW: 14.3, RackUnits: 10, PSUCount: 6, PSURedundancy: "5+1", Rails: 8, NICSpeedGbps: 400, CoolingRequired: "air", NVLinkDomain: 8}},
		{"storage-server", DeviceType{Name: "storage-server", MaxPowerKW: 1.2, RackUnits: 2, PSUCount: 2, PSURedundancy: "1+1", Rails: 2, NICSpeedGbps: 200, CoolingRequired: "air", DrivesPerNode: 12, DriveTB: 15.36}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Builtin()[tt.name]); diff != "" {
				t.Errorf("Builtin()[%q] mismatch (-want +got):\n%s", tt.name, diff)
			}
		})
	}
	nvl := Builtin()["gb200-nvl72"]
	if nvl.GPUs != 72 || nvl.NVLinkDomain != 72 || nvl.CoolingRequired != "liquid" || nvl.MaxPowerKW != 120 {
		t.Errorf("gb200-nvl72 = %+v, want 72 GPUs in one NVLink domain, liquid, 120 kW", nvl)
	}
}
