package schema

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/fabrica-iac/fabrica/schema/catalog"
	"github.com/fabrica-iac/fabrica/schema/derive"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/zclconf/go-cty/cty"
)

// Lookup gives derivations access to the other instances and to the device catalog.
type Lookup interface {
	Instance(addr string) *Instance
	DeviceType(name string) (catalog.DeviceType, bool)
	DeviceTypeNames() []string
}

// Derive computes an instance's derived figures and checks the rules that span its
// arguments and the instances it refers to (DESIGN.md §3 "Validation"). Instances it
// refers to must already be derived, which evaluation order guarantees.
func Derive(inst *Instance, l Lookup) diag.Diagnostics {
	inst.Derived, inst.derivedNums = nil, nil
	if inst.Kind() != KindHardware { // a server's figures are its device type's, shared
		inst.Derived = map[string]cty.Value{}
	}
	var diags diag.Diagnostics
	switch inst.Kind() {
	case KindHardware:
		diags = deriveHardware(inst, l)
	case KindFabric:
		diags = deriveFabric(inst, l)
	case KindStorage:
		diags = deriveStorage(inst)
	case KindTrainingCluster:
		diags = deriveCluster(inst, l)
	case KindTrainingJob:
		diags = deriveJob(inst, l)
	case KindDRSite:
		diags = deriveDR(inst, l)
	}
	for i := range diags {
		diags[i].Address = inst.Addr.String()
	}
	return diags
}

func deriveHardware(inst *Instance, l Lookup) diag.Diagnostics {
	name := inst.Str("device_type")
	dt, ok := l.DeviceType(name)
	if !ok {
		return diag.Diagnostics{diag.Errorf(inst.Range("device_type"), "Unknown device type",
			"There is no device type %q%s. Built-in types: %s; declare others with a device_type block.",
			name, quotedSuggestion(name, l.DeviceTypeNames()), strings.Join(catalog.Names(), ", "))}
	}
	figs := hardwareFigures(dt)
	inst.Derived, inst.derivedNums = figs.values, figs.nums
	fac := l.Instance(inst.Str("facility"))
	if fac != nil && dt.CoolingRequired == catalog.CoolingLiquid {
		if rc := fac.Str("rack_cooling"); !derive.CoolingSatisfies(rc, dt.CoolingRequired) {
			return diag.Diagnostics{diag.Errorf(inst.Range("device_type"), "Device needs liquid cooling",
				"%s is liquid-cooled only, but %s has rack_cooling = %q. Set rack_cooling = \"dlc\" or \"immersion\" on the facility, or choose an air-cooled device type.",
				name, fac.Addr, rc)}
		}
	}
	return nil
}

func quotedSuggestion(given string, names []string) string {
	if s := nameSuggestion(given, names); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// distinctInstances reports, cheaply, that no instance is listed twice: every one is
// known, and those of one resource form a single run in increasing index order (as a
// concat of whole counted resources gives). false means only that it was not shown.
func distinctInstances(insts []*Instance) bool {
	var runs map[*Resource]bool
	// While the runs come in increasing block order (a fabric's servers, one block
	// each, as they are declared), they are distinct without a set of 4,096 blocks.
	last := -1
	for k, in := range insts {
		if in == nil {
			return false
		}
		if k > 0 && insts[k-1].Resource == in.Resource {
			prev, cur := insts[k-1].Addr.Key, in.Addr.Key
			if prev.Type != addrs.IntKey || cur.Type != addrs.IntKey || prev.Int >= cur.Int {
				return false
			}
			continue
		}
		if runs == nil {
			if in.Resource.Index > last {
				last = in.Resource.Index
				continue
			}
			runs = map[*Resource]bool{}
			for _, p := range insts[:k] {
				runs[p.Resource] = true
			}
		}
		if runs[in.Resource] {
			return false
		}
		runs[in.Resource] = true
	}
	return true
}

func deriveFabric(inst *Instance, l Lookup) diag.Diagnostics {
	var diags diag.Diagnostics
	endpoints, hws := inst.References("endpoints", l)
	var seen map[string]bool
	if !distinctInstances(hws) {
		seen = make(map[string]bool, len(endpoints))
	}
	rails, nicSpeed := 0, 0.0
	compute := inst.Str("kind") == "compute"
	// A fabric's thousands of endpoints are mostly of one device type: it is looked
	// up once per run of equal names.
	var lastType string
	var lastNICSpeed float64
	looked := false
	var spec *KindSpec
	deviceType := -1
	for k, a := range endpoints {
		if seen != nil {
			if seen[a] {
				diags = diags.Append(diag.Errorf(inst.Range("endpoints"), "Duplicate fabric endpoint",
					"%s is listed more than once in endpoints; each node connects once.", a))
				return diags
			}
			seen[a] = true
		}
		hw := hws[k]
		if hw == nil {
			continue
		}
		r := 1
		if compute {
			r = max(1, int(hw.DerivedNum("rails")))
		}
		rails += r
		if hw.Resource.Spec != spec {
			spec = hw.Resource.Spec
			deviceType = spec.Index("device_type")
		}
		name := ""
		if deviceType >= 0 {
			name = asString(hw.Values[deviceType])
		}
		if !looked || name != lastType {
			looked, lastType, lastNICSpeed = true, name, 0
			if dt, ok := l.DeviceType(name); ok {
				lastNICSpeed = dt.NICSpeedGbps
			}
		}
		nicSpeed = max(nicSpeed, lastNICSpeed)
	}
	speed := inst.Num("port_speed_gbps")
	if speed == 0 {
		speed = nicSpeed
	} else if compute && nicSpeed > 0 && speed != nicSpeed {
		diags = diags.Append(diag.Errorf(inst.Range("port_speed_gbps"), "Port speed does not match the NICs",
			"port_speed_gbps is %g, but the endpoints' compute NICs run at %g Gb/s. Set port_speed_gbps = %g, or use switches whose ports match the NICs.",
			speed, nicSpeed, nicSpeed))
	}
	down, up, err := derive.ParseOversubscription(inst.Str("oversubscription"))
	if err != nil {
		return diags.Append(diag.Errorf(inst.Range("oversubscription"), "Invalid oversubscription", "%s", err))
	}
	perNode := 1
	if len(endpoints) > 0 {
		perNode = rails / len(endpoints)
	}
	sz, err := derive.SizeFabric(derive.FabricInput{
		Endpoints: rails, Nodes: len(endpoints), Radix: inst.Int("switch_radix"), Down: down, Up: up,
		PortSpeedGbps: speed, Topology: inst.Str("topology"), SpineSizing: inst.Str("spine_sizing"), RailsPerNode: perNode,
	})
	if err != nil {
		return diags.Append(inputErrorDiag(inst, err, "Fabric cannot be built as declared"))
	}
	for _, w := range sz.Warnings {
		diags = diags.Append(diag.Warnf(inst.Resource.DeclRange, "Fabric sizing", "%s", w))
	}
	set := func(k string, v int) { inst.Derived[k] = cty.NumberIntVal(int64(v)) }
	set("endpoint_ports", sz.EndpointPorts)
	set("leaf_switches", sz.LeafSwitches)
	set("spine_switches", sz.SpineSwitches)
	set("core_switches", sz.CoreSwitches)
	set("node_links", sz.NodeLinks)
	set("switch_links", sz.SwitchLinks)
	set("transceivers", sz.Transceivers)
	inst.Derived["bisection_gbps"] = NumberVal(sz.BisectionGbps)
	inst.Derived["power_kw"] = NumberVal(sz.PowerKW)
	return diags
}

// storageNodePowerKW is the power of one storage node when the storage block does not
// name hardware: the built-in storage-server's figure.
func storageNodePowerKW() float64 {
	if dt, ok := catalog.Builtin()["storage-server"]; ok {
		return dt.MaxPowerKW
	}
	return 1.2
}

func deriveStorage(inst *Instance) diag.Diagnostics {
	p := inst.Block("protection")
	in := derive.StorageInput{
		Nodes: inst.Int("nodes"), DrivesPerNode: inst.Int("drives_per_node"), DriveTB: inst.Num("drive_tb"),
		Mode: "replicated", Replicas: 3, NearfullRatio: inst.Num("nearfull_ratio"), FailureDomains: inst.Int("nodes"),
	}
	if p.IsSet() {
		in.Mode = p.Str("mode")
		if r := p.Int("replicas"); r > 0 {
			in.Replicas = r
		}
		in.DataChunks, in.CodingChunks = p.Int("data_chunks"), p.Int("coding_chunks")
		if in.Mode == "erasure" && (in.DataChunks == 0 || in.CodingChunks == 0) {
			return diag.Diagnostics{diag.Errorf(p.Body.MissingItemRange, "Incomplete erasure coding",
				"protection mode \"erasure\" needs data_chunks (k) and coding_chunks (m), for example data_chunks = 4 and coding_chunks = 2.")}
		}
	}
	rng := inst.Range("protection")
	if inst.Str("failure_domain") == "rack" {
		if !inst.IsSet("racks") {
			return diag.Diagnostics{diag.Errorf(inst.Range("failure_domain"), "Missing racks",
				"failure_domain = \"rack\" needs the number of racks the nodes are spread over: set racks = N.")}
		}
		in.FailureDomains = inst.Int("racks")
		rng = inst.Range("racks")
	}
	c, err := derive.SizeStorage(in)
	if errors.Is(err, derive.ErrTooFewFailureDomains) {
		return diag.Diagnostics{diag.Errorf(rng, "Not enough failure domains", "%s", err)}
	} else if err != nil {
		return diag.Diagnostics{inputErrorDiag(inst, err, "Invalid storage figures")}
	}
	inst.Derived["raw_tb"] = NumberVal(c.RawTB)
	inst.Derived["usable_tb"] = NumberVal(c.UsableTB)
	inst.Derived["planning_tb"] = NumberVal(c.PlanningTB)
	inst.Derived["power_kw"] = NumberVal(float64(in.Nodes) * storageNodePowerKW())
	if min := inst.Num("min_usable_tb"); min > 0 && c.PlanningTB < min {
		return diag.Diagnostics{diag.Errorf(inst.Range("min_usable_tb"), "Storage too small",
			"The cluster plans %.1f TB usable (%.1f TB raw, after protection and the nearfull ratio), less than min_usable_tb = %g. Add nodes or drives, or use a cheaper protection scheme.",
			c.PlanningTB, c.RawTB, min)}
	}
	return nil
}

// inputErrorDiag places a derive.InputError on the argument it names.
func inputErrorDiag(inst *Instance, err error, summary string) diag.Diagnostic {
	rng := inst.Resource.DeclRange
	var ie *derive.InputError
	if errors.As(err, &ie) && ie.Field != "" && inst.Resource.Spec.Index(ie.Field) >= 0 {
		rng = inst.Range(ie.Field)
	}
	return diag.Errorf(rng, summary, "%s", err)
}

// hardwareFigures returns a device type's derived figures. Every instance of a type has
// the same figures, so they are built once per type and shared (never modified).
func hardwareFigures(dt catalog.DeviceType) *figures {
	figuresMu.Lock()
	defer figuresMu.Unlock()
	if f, ok := figuresByType[dt]; ok {
		return f
	}
	f := &figures{
		values: map[string]cty.Value{
			"gpus":          cty.NumberIntVal(int64(dt.GPUs)),
			"gpu_memory_gb": NumberVal(dt.GPUMemoryGB),
			"power_kw":      NumberVal(dt.MaxPowerKW),
			"rack_units":    cty.NumberIntVal(int64(dt.RackUnits)),
			"rails":         cty.NumberIntVal(int64(dt.Rails)),
		},
		nums: map[string]float64{},
	}
	for k, v := range f.values {
		f.nums[k] = asNumber(v)
	}
	figuresByType[dt] = f
	return f
}

// figures are the derived figures of one device type, shared by every server of the
// type (read-only), also as float64s: fabrics and facility totals read them 100,000
// times, and reading a cty number allocates a copy of it.
type figures struct {
	values map[string]cty.Value
	nums   map[string]float64
}

var (
	figuresMu     sync.Mutex
	figuresByType = map[catalog.DeviceType]*figures{}
)
