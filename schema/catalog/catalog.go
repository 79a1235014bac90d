package catalog

import (
	"maps"
	"slices"
)

// DeviceType is a server model. Units are in the field names' comments;
// rack-scale systems (gb200-nvl72) describe the whole rack as one device.
type DeviceType struct {
	Name            string
	GPUs            int     // GPUs per node
	GPUModel        string  // "H100", ...; "" when no GPU
	GPUMemoryGB     float64 // per GPU
	GPUTDPW         float64 // per GPU, watts
	MaxPowerKW      float64 // nameplate max per node (rack-scale systems: per rack/system)
	RackUnits       int
	PSUCount        int
	PSURedundancy   string  // e.g. "4+2"
	Rails           int     // compute NICs (rails) per node
	NICSpeedGbps    float64 // speed of each compute NIC
	CoolingRequired string  // "air" or "liquid"
	NVLinkDomain    int     // GPUs in one NVLink domain (8 for HGX/DGX, 72 for NVL72; 0 without GPUs)
	DrivesPerNode   int     // data drives (storage servers), 0 otherwise
	DriveTB         float64
}

// Cooling values for DeviceType.CoolingRequired.
const (
	CoolingAir    = "air"
	CoolingLiquid = "liquid"
)

// builtin is the source of truth; Builtin copies it so callers can never
// change it. DeviceType holds no slices or maps, so a shallow copy is a
// full copy.
var builtin = map[string]DeviceType{
	// [S1, S1b] NVIDIA-derived data: 8U, 6 × 3.3 kW PSUs (4+2), 10.2 kW max,
	// 8 × H100 SXM 80 GB at 700 W, 8 × 400 G ConnectX-7 (NDR). We follow
	// NVIDIA over the blog that says 4U/4 PSUs [S9]. The 8 × 3.84 TB NVMe are
	// a local cache, not storage-cluster drives, so DrivesPerNode stays 0.
	"dgx-h100": {
		Name: "dgx-h100", GPUs: 8, GPUModel: "H100", GPUMemoryGB: 80, GPUTDPW: 700,
		MaxPowerKW: 10.2, RackUnits: 8, PSUCount: 6, PSURedundancy: "4+2",
		Rails: 8, NICSpeedGbps: 400, CoolingRequired: CoolingAir, NVLinkDomain: 8,
	},
	// [S1, S10] Same chassis and PSU set as DGX H100; 8 × H200 141 GB at
	// 700 W TGP; 8 × 400 G compute NICs (MLPerf lists 10 × 400 G including
	// the two storage/in-band ports, which are not rails).
	"dgx-h200": {
		Name: "dgx-h200", GPUs: 8, GPUModel: "H200", GPUMemoryGB: 141, GPUTDPW: 700,
		MaxPowerKW: 10.2, RackUnits: 8, PSUCount: 6, PSURedundancy: "4+2",
		Rails: 8, NICSpeedGbps: 400, CoolingRequired: CoolingAir, NVLinkDomain: 8,
	},
	// [S2] DGX B200 user guide: 10U, 6 × 3.3 kW PSUs (5+1), 14.3 kW max,
	// 8 × B200 at 1,000 W, 1,440 GB total = 180 GB/GPU (not the 192 GB
	// marketing figure [S12]), 8 × 400 G CX-7 rails (the 2 × BlueField-3 are
	// storage/in-band, not rails).
	"dgx-b200": {
		Name: "dgx-b200", GPUs: 8, GPUModel: "B200", GPUMemoryGB: 180, GPUTDPW: 1000,
		MaxPowerKW: 14.3, RackUnits: 10, PSUCount: 6, PSURedundancy: "5+1",
		Rails: 8, NICSpeedGbps: 400, CoolingRequired: CoolingAir, NVLinkDomain: 8,
	},
	// [S3, S11] DGX GB200 NVL72, described as one rack-scale device: 72 GPUs
	// in 18 × 1U compute trays (4 GPUs each) sharing one NVLink domain;
	// ≈120 kW per rack (press figure, below the 132 kW power-shelf
	// capacity); liquid cooling only. Rails = 18 trays × 4 CX-7 = 72 at
	// 400 G, so a fabric sees the rack as 72 endpoint ports; for rail
	// alignment the rack counts as 18 nodes (trays) of 4 rails each.
	// GPUMemoryGB: ≈13.4–13.5 TB HBM3e / 72 ≈ 186 GB.
	// Proposal (not in domain.md): GPUTDPW 1,200 W per GB200 GPU; RackUnits
	// 48 because the system fills a whole rack; PSUCount/PSURedundancy
	// describe power shelves, 4 × 33 kW (= 132 kW) mirrored for A/B feeds.
	"gb200-nvl72": {
		Name: "gb200-nvl72", GPUs: 72, GPUModel: "GB200", GPUMemoryGB: 186, GPUTDPW: 1200,
		MaxPowerKW: 120, RackUnits: 48, PSUCount: 8, PSURedundancy: "4+4",
		Rails: 72, NICSpeedGbps: 400, CoolingRequired: CoolingLiquid, NVLinkDomain: 72,
	},
	// Proposal: a generic 1U dual-socket CPU server (management, login,
	// schedulers) at 0.8 kW with redundant PSUs and 2 × 100 G NICs.
	"cpu-server": {
		Name: "cpu-server", MaxPowerKW: 0.8, RackUnits: 1, PSUCount: 2, PSURedundancy: "1+1",
		Rails: 2, NICSpeedGbps: 100, CoolingRequired: CoolingAir,
	},
	// Proposal: a 2U NVMe storage server, the node of domain.md §2.5's
	// example (12 × 15.36 TB), 1.2 kW, 2 × 200 G NICs.
	"storage-server": {
		Name: "storage-server", MaxPowerKW: 1.2, RackUnits: 2, PSUCount: 2, PSURedundancy: "1+1",
		Rails: 2, NICSpeedGbps: 200, CoolingRequired: CoolingAir,
		DrivesPerNode: 12, DriveTB: 15.36,
	},
}

// Builtin returns the built-in device types keyed by name. It returns a fresh
// copy on every call, so callers may add user overrides to the result.
func Builtin() map[string]DeviceType {
	return maps.Clone(builtin)
}

// Names returns the names of the built-in device types, sorted.
func Names() []string {
	return slices.Sorted(maps.Keys(builtin))
}
