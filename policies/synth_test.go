package policies

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// synthRange is a source range in the plan JSON shape.
func synthRange(line, col, endCol, byteOff int) map[string]any {
	return map[string]any{
		"filename": "main.fab.hcl",
		"start":    map[string]any{"line": line, "column": col, "byte": byteOff},
		"end":      map[string]any{"line": line, "column": endCol, "byte": byteOff + endCol - col},
	}
}

func synthRanges(line int, names ...string) map[string]any {
	out := map[string]any{}
	for i, n := range names {
		out[n] = synthRange(line+1+i, 3, 20, 100*(line+i))
	}
	return out
}

func synthChange(addr, kind, name string, index any, line int, after map[string]any, derived []string) map[string]any {
	names := make([]string, 0, len(after))
	for k := range after {
		if !slices.Contains(derived, k) && k != "stage" {
			names = append(names, k)
		}
	}
	rc := map[string]any{
		"address": addr, "kind": kind, "name": name, "provider": "sim",
		"action": "create", "reason": "new", "before": nil, "after": after,
		"after_unknown": []string{"id"}, "derived": derived,
		"decl_range":       synthRange(line, 1, 15, 100*line),
		"attribute_ranges": synthRanges(line, names...),
		"config_hash":      "ea5c0f0e6305cedd933846448887a405",
		"dependencies":     []string{"facility.pod"},
	}
	if index != nil {
		rc["index"] = index
	}
	return rc
}

// synthPlan returns the plan JSON of a SuperPOD-shaped configuration with n DGX H100
// nodes, four to a rack, shaped like `fabrica plan --json` output: one facility, a
// compute, a storage and an OOB fabric over every node, a Ceph cluster, a training
// cluster and job over every node, and a DR pairing. It passes every bundled policy.
func synthPlan(n int) []byte { return synthPlanFormat(n, "1.1") }

// synthPlanFormat is synthPlan in a plan format: "1.1" has the attribute ranges in
// the document's attribute_ranges, by resource, "1.0" in each change.
func synthPlanFormat(n int, format string) []byte {
	nodes := make([]string, n)
	racks := map[string]float64{}
	table := map[string]any{}
	// byResource moves a change's attribute ranges to the table in format 1.1.
	byResource := func(rc map[string]any) map[string]any {
		if format != "1.0" {
			table[rc["kind"].(string)+"."+rc["name"].(string)] = rc["attribute_ranges"]
			delete(rc, "attribute_ranges")
		}
		return rc
	}
	tmpl, err := json.Marshal(byResource(synthChange("@ADDR@", "hardware", "dgx", "@IDX@", 38, map[string]any{
		"device_type": "dgx-h100", "facility": "facility.pod", "gpu_memory_gb": 80, "gpus": 8,
		"power_kw": 10.2, "rack": "@RACK@", "rack_units": 8, "rails": 8, "role": "compute", "stage": "in-service",
	}, []string{"gpus", "gpu_memory_gb", "power_kw", "rack_units", "rails"})))
	if err != nil {
		panic(err)
	}
	var hw []json.RawMessage
	for i := range n {
		nodes[i] = "hardware.dgx[" + strconv.Itoa(i) + "]"
		rack := fmt.Sprintf("r%05d", i/4)
		racks[rack] += 10.2
		r := strings.NewReplacer("@ADDR@", nodes[i], `"@IDX@"`, strconv.Itoa(i), "@RACK@", rack)
		hw = append(hw, json.RawMessage(r.Replace(string(tmpl))))
	}
	var rcs []any
	for _, h := range hw {
		rcs = append(rcs, h)
	}
	itLoad := float64(n)*10.2*1.1 + 1
	facility := func(name string, lat float64) map[string]any {
		return map[string]any{
			"design_pue": 1.25, "it_power_kw": itLoad * 1.25, "power_redundancy": "2N", "rack_cooling": "rdhx",
			"renewable_fraction": 0.8, "tier": 3, "region": "us-east", "latitude": lat, "longitude": -77.0,
			"it_load_kw": itLoad, "gpus": 8 * n, "racks": len(racks), "annual_energy_mwh": itLoad * 1.25 * 8.76,
		}
	}
	rcs = append(rcs,
		synthChange("facility.pod", "facility", "pod", nil, 24, facility("pod", 39.0), []string{"it_load_kw", "gpus", "racks"}),
		synthChange("facility.dr", "facility", "dr", nil, 10, facility("dr", 41.0), []string{"it_load_kw", "gpus", "racks"}),
	)
	fabric := func(name, kind, transport, isolation string) map[string]any {
		return synthChange("fabric."+name, "fabric", name, nil, 50, map[string]any{
			"facility": "facility.pod", "kind": kind, "transport": transport, "isolation": isolation,
			"partitions": []string{"training"}, "endpoints": nodes, "topology": "leaf_spine", "leaf_switches": n / 32,
		}, []string{"leaf_switches"})
	}
	rcs = append(rcs,
		fabric("compute", "compute", "infiniband", "pkey"),
		fabric("storage", "storage", "roce", "vrf"),
		fabric("oob", "oob", "ethernet", "vlan"),
		synthChange("storage.ceph", "storage", "ceph", nil, 80, map[string]any{
			"facility": "facility.pod", "kind": "ceph", "nodes": 10, "drives_per_node": 12, "drive_tb": 15.36,
			"encryption_at_rest": true, "encryption_in_transit": true,
			"protection": map[string]any{"mode": "erasure", "data_chunks": 4, "coding_chunks": 2, "replicas": nil},
		}, nil),
		synthChange("training_cluster.pod", "training_cluster", "pod", nil, 97, map[string]any{
			"facility": "facility.pod", "scheduler": "slurm", "hardware": nodes, "fabric": "fabric.compute",
			"storage": "storage.ceph", "nodes": n, "gpus": 8 * n,
		}, []string{"nodes", "gpus"}),
		synthChange("training_job.llm", "training_job", "llm", nil, 107, map[string]any{
			"cluster": "training_cluster.pod", "command": []string{"python3", "-m", "train"}, "nodes": n, "gpus_per_node": 8,
			"image":      "nvcr.io/nvidia/pytorch@sha256:4f1e0c2bb7ab7c0e6b4f4d09e3d0a9a2c6b6b8f8b1e0c2bb7ab7c0e6b4f4d09e",
			"env":        map[string]any{"NCCL_DEBUG": "WARN"},
			"checkpoint": map[string]any{"dir": "/ceph/ckpt", "interval_minutes": 30},
			"world_size": 8 * n,
		}, []string{"world_size"}),
		synthChange("dr_site.pod", "dr_site", "pod", nil, 140, map[string]any{
			"primary": "facility.pod", "secondary": "facility.dr", "encrypt_in_transit": true, "distance_km": 222.4,
			"rpo_minutes": 60, "rto_minutes": 240, "drill": map[string]any{"interval_days": 90, "last": "2026-10-01"},
		}, []string{"distance_km"}),
	)
	summary := map[string]any{
		"address": "facility.pod", "it_power_kw": itLoad * 1.25, "design_pue": 1.25, "nodes": n, "gpus": 8 * n,
		"racks": len(racks), "it_load_kw": itLoad, "annual_energy_mwh": itLoad * 1.25 * 8.76,
		"rack_load_kw": racks, "max_rack_kw": 40.8, "max_rack": "r00000", "rack_cooling": "rdhx", "rack_cooling_limit_kw": 80,
	}
	for _, rc := range rcs {
		if m, ok := rc.(map[string]any); ok {
			byResource(m)
		}
	}
	plan := map[string]any{
		"format_version": format, "fabrica_version": "0.1.0", "mode": "normal", "lineage": "x", "prior_serial": 0,
		"resource_changes": rcs,
		"aggregates":       []any{map[string]any{"address": "facility.pod", "before": nil, "after": summary}},
		"outputs":          map[string]any{}, "diagnostics": []any{},
	}
	if format != "1.0" {
		plan["attribute_ranges"] = table
	}
	b, err := json.Marshal(plan)
	if err != nil {
		panic(err)
	}
	return b
}
