package derive

// Rack cooling values (the rack_cooling attribute).
const (
	RackCoolingAir       = "air"
	RackCoolingRDHx      = "rdhx"
	RackCoolingDLC       = "dlc"
	RackCoolingImmersion = "immersion"
)

// btuPerHourPerKW converts kW of heat to BTU/h [S16].
const btuPerHourPerKW = 3412

// AirflowCFM returns the airflow in cubic feet per minute that removes kw of
// heat at an air temperature rise of deltaTF °F: CFM = BTU/h / (1.08 × ΔT)
// [S16]. All electrical input becomes heat, so kw is the rack load. A
// 40.8 kW rack at ΔT 20 °F needs about 6,450 CFM. It returns 0 when
// deltaTF ≤ 0; the caller validates the temperature rise.
func AirflowCFM(kw, deltaTF float64) float64 {
	if deltaTF <= 0 {
		return 0
	}
	return kw * btuPerHourPerKW / (1.08 * deltaTF)
}

// WaterFlowLPM returns the water flow in litres per minute that removes kw
// of heat at a coolant temperature rise of deltaTK kelvin:
// kg/s = kW / (4.186 × ΔT), taking 1 kg of water as 1 L. 120 kW at 10 K
// needs ≈2.9 kg/s ≈ 172 L/min. It returns 0 when deltaTK ≤ 0.
func WaterFlowLPM(kw, deltaTK float64) float64 {
	if deltaTK <= 0 {
		return 0
	}
	return kw / (4.186 * deltaTK) * 60
}

// RackCoolingLimitKW returns the most heat, in kW, one rack of the given
// cooling kind can reject: air 30, rdhx 80, dlc 150, immersion 200. These
// are proposals taken from the top of the ranges in domain.md §2.3 (air
// ceiling ≈30 kW, RDHx 20–80 kW per door, direct-to-chip 50–150 kW
// [S17a, S17c]); immersion has no sourced figure. A rack's own
// cooling_capacity_kw, when set, should win over these. Unknown kinds give 0.
func RackCoolingLimitKW(cooling string) float64 {
	switch cooling {
	case RackCoolingAir:
		return 30
	case RackCoolingRDHx:
		return 80
	case RackCoolingDLC:
		return 150
	case RackCoolingImmersion:
		return 200
	}
	return 0
}

// CoolingKind maps a rack's cooling to the device cooling it provides,
// "air" or "liquid" (catalog.DeviceType.CoolingRequired), or "" for an
// unknown kind. A rear-door heat exchanger cools the rack's exhaust air, so
// the servers inside are still air-cooled: rdhx is "air". Only dlc and
// immersion bring liquid to the device, which a GB200 NVL72 needs.
func CoolingKind(rackCooling string) string {
	switch rackCooling {
	case RackCoolingAir, RackCoolingRDHx:
		return "air"
	case RackCoolingDLC, RackCoolingImmersion:
		return "liquid"
	}
	return ""
}

// CoolingSatisfies reports whether a rack with the given cooling can hold a
// device whose CoolingRequired is required. Liquid-cooled devices need dlc
// or immersion. Air-cooled devices fit air, rdhx and dlc racks, since a dlc
// rack still moves room air for the heat the cold plates leave behind (its
// switches and power shelves are air-cooled too), but not immersion tanks,
// which need servers qualified for them.
func CoolingSatisfies(rackCooling, required string) bool {
	switch required {
	case "liquid":
		return CoolingKind(rackCooling) == "liquid"
	case "air":
		return rackCooling == RackCoolingAir || rackCooling == RackCoolingRDHx || rackCooling == RackCoolingDLC
	}
	return false
}
