package planner

import (
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/catalog"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evalDeviceTypes merges user device_type blocks over the built-in catalog. A user block
// starts from the built-in of the same name, so it may override a single figure.
func (e *Evaluated) evalDeviceTypes() diag.Diagnostics {
	e.DeviceTypes = catalog.Builtin()
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(e.Variables)}, Functions: functions}
	var diags diag.Diagnostics
	for _, name := range sortedKeys(e.Config.DeviceTypes) {
		b := e.Config.DeviceTypes[name]
		dt, builtin := e.DeviceTypes[name]
		if !builtin {
			dt = catalog.DeviceType{CoolingRequired: catalog.CoolingAir, RackUnits: 1}
			if b.Attrs["max_power_kw"] == nil {
				diags = diags.Append(diag.Errorf(b.DeclRange, "Missing required argument",
					"The device type %q is not built in, so it needs max_power_kw (the nameplate power of one unit, in kW).", name))
			}
		}
		dt.Name = name
		spec := schema.DeviceTypeSpec()
		for _, a := range spec.Attrs {
			at := b.Attrs[a.Name]
			if at == nil {
				continue
			}
			if d := deviceTypeRefs(e.Config, at.Expr); d.HasErrors() {
				diags = diags.Append(d)
				continue
			}
			v, hd := at.Expr.Value(ctx)
			diags = diags.Append(hd)
			if hd.HasErrors() {
				continue
			}
			v, d := schema.DecodeArg(a, v, at.Expr.Range())
			diags = diags.Append(d)
			if d.HasErrors() || v.IsNull() {
				continue
			}
			setDeviceField(&dt, a.Name, v)
		}
		b.Value = dt
		e.DeviceTypes[name] = dt
	}
	return diags
}

// deviceTypeRefs checks the references of a device_type argument: device types are read
// before locals and resources, so only declared variables are in scope.
func deviceTypeRefs(cfg *schema.Config, expr hcl.Expression) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, t := range expr.Variables() {
		if t.RootName() == "var" {
			_, d := (&refs{}).add(cfg, t, refScope{})
			diags = diags.Append(d)
			continue
		}
		diags = diags.Append(diag.Errorf(t.SourceRange(), "Invalid reference in device type",
			"A device_type block is read before any local value or resource is evaluated, so its arguments may refer only to variables (var.NAME), not to %s. Write the figure as a constant or a variable.", t.RootName()))
	}
	return diags
}

func setDeviceField(dt *catalog.DeviceType, name string, v cty.Value) {
	f := func() float64 { x, _ := v.AsBigFloat().Float64(); return x }
	switch name {
	case "gpus":
		dt.GPUs = int(f())
	case "gpu_model":
		dt.GPUModel = v.AsString()
	case "gpu_memory_gb":
		dt.GPUMemoryGB = f()
	case "gpu_tdp_w":
		dt.GPUTDPW = f()
	case "max_power_kw":
		dt.MaxPowerKW = f()
	case "rack_units":
		dt.RackUnits = int(f())
	case "psu_count":
		dt.PSUCount = int(f())
	case "psu_redundancy":
		dt.PSURedundancy = v.AsString()
	case "rails":
		dt.Rails = int(f())
	case "nic_speed_gbps":
		dt.NICSpeedGbps = f()
	case "cooling_required":
		dt.CoolingRequired = v.AsString()
	case "nvlink_domain":
		dt.NVLinkDomain = int(f())
	case "drives_per_node":
		dt.DrivesPerNode = int(f())
	case "drive_tb":
		dt.DriveTB = f()
	}
}
