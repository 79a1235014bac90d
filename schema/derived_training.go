package schema

import (
	"fmt"

	"github.com/fabrica-iac/fabrica/schema/derive"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/zclconf/go-cty/cty"
)

// gpuHeadroom is the share of GPU memory a job may plan to use; the rest is left for the
// runtime (CUDA context, fragmentation). A proposal from domain.md §3.
const gpuHeadroom = 0.9

func deriveCluster(inst *Instance, l Lookup) diag.Diagnostics {
	nodes, gpus, mem := 0, 0, 0.0
	_, hws := inst.References("hardware", l)
	for _, hw := range hws {
		if hw == nil {
			continue
		}
		nodes++
		g := int(hw.DerivedNum("gpus"))
		gpus += g
		mem += float64(g) * hw.DerivedNum("gpu_memory_gb")
	}
	inst.Derived["nodes"] = cty.NumberIntVal(int64(nodes))
	inst.Derived["gpus"] = cty.NumberIntVal(int64(gpus))
	inst.Derived["gpu_memory_gb"] = NumberVal(mem)
	if inst.Str("scheduler") == "slurm" && !inst.IsSet("partition") {
		return diag.Diagnostics{diag.Warnf(inst.Resource.DeclRange, "No Slurm partition",
			"%s uses Slurm without a partition; jobs go to the cluster's default partition. Set partition = \"NAME\" to be explicit.", inst.Addr)}
	}
	return nil
}

// clusterShape is what a job needs to know about its cluster.
type clusterShape struct {
	nodes, minGPUs int
	gpuMemGB       float64
	nvlinkDomain   int
}

func shapeOf(cluster *Instance, l Lookup) clusterShape {
	s := clusterShape{nodes: int(cluster.DerivedNum("nodes")), minGPUs: -1}
	_, hws := cluster.References("hardware", l)
	for _, hw := range hws {
		if hw == nil {
			continue
		}
		g := int(hw.DerivedNum("gpus"))
		if s.minGPUs < 0 || g < s.minGPUs {
			s.minGPUs = g
		}
		m := hw.DerivedNum("gpu_memory_gb")
		if s.gpuMemGB == 0 || (m > 0 && m < s.gpuMemGB) {
			s.gpuMemGB = m
		}
		if dt, ok := l.DeviceType(hw.Str("device_type")); ok && (s.nvlinkDomain == 0 || dt.NVLinkDomain < s.nvlinkDomain) {
			s.nvlinkDomain = dt.NVLinkDomain
		}
	}
	s.minGPUs = max(s.minGPUs, 0)
	return s
}

func deriveJob(inst *Instance, l Lookup) diag.Diagnostics {
	cluster := l.Instance(inst.Str("cluster"))
	if cluster == nil {
		return nil
	}
	shape := shapeOf(cluster, l)
	var diags diag.Diagnostics
	nodes := shape.nodes
	if inst.IsSet("nodes") {
		nodes = inst.Int("nodes")
		if nodes > shape.nodes {
			diags = diags.Append(diag.Errorf(inst.Range("nodes"), "Job larger than its cluster",
				"The job asks for %d nodes, but %s has %d. Lower nodes or add hardware to the cluster.", nodes, cluster.Addr, shape.nodes))
		}
	}
	gpn := shape.minGPUs
	if inst.IsSet("gpus_per_node") {
		gpn = inst.Int("gpus_per_node")
		if gpn > shape.minGPUs {
			diags = diags.Append(diag.Errorf(inst.Range("gpus_per_node"), "Not enough GPUs per node",
				"The job asks for %d GPUs per node, but the smallest node of %s has %d.", gpn, cluster.Addr, shape.minGPUs))
		}
	}
	ppn := max(gpn, 1)
	if inst.IsSet("processes_per_node") {
		ppn = inst.Int("processes_per_node")
		if gpn > 0 && ppn > gpn {
			diags = diags.Append(diag.Errorf(inst.Range("processes_per_node"), "More processes than GPUs",
				"The job starts %d processes per node but uses %d GPUs per node; each process drives one GPU. Set processes_per_node = %d (or raise gpus_per_node).",
				ppn, gpn, gpn))
		}
	}
	world := nodes * ppn
	inst.Derived["world_size"] = cty.NumberIntVal(int64(world))
	// The cluster's scheduler partition travels with the job, so a scheduler provider
	// submits there without reading the cluster.
	if p := cluster.Str("partition"); p != "" {
		inst.Derived["partition"] = cty.StringVal(p)
	}
	// The defaults come from the cluster; recording them makes the job's attributes a
	// complete launch, so schedulers need not know the cluster.
	setDefault(inst, "nodes", nodes)
	setDefault(inst, "processes_per_node", ppn)
	if gpn > 0 {
		setDefault(inst, "gpus_per_node", gpn)
	}
	if world == 0 {
		return diags.Append(diag.Errorf(inst.Range("cluster"), "Cluster has no nodes",
			"%s has no hardware, so the job has nowhere to run. Add hardware to the cluster, or point cluster at one that has some.", cluster.Addr))
	}
	layout, d := jobLayout(inst, world, shape)
	diags = diags.Append(d)
	if m := inst.Block("model"); m.IsSet() {
		spec := modelSpec(m)
		diags = diags.Append(checkModel(m, spec))
		if !diags.HasErrors() {
			diags = diags.Append(jobMemory(inst, m, spec, layout, shape))
		}
	}
	return diags
}

func modelSpec(m BlockValue) derive.ModelSpec {
	return derive.ModelSpec{
		ParametersB: m.Num("parameters_b"), Layers: m.Int("layers"), Hidden: m.Int("hidden"), Heads: m.Int("heads"),
		SeqLen: m.Int("seq_len"), MicroBatch: max(m.Int("micro_batch"), 1), BytesPerParam: m.Num("bytes_per_param"),
		ZeroStage: m.Int("zero_stage"), Recompute: m.Str("recompute"),
	}
}

// checkModel reports model figures no transformer can have, such as a hidden size that
// does not divide by the number of heads.
func checkModel(m BlockValue, spec derive.ModelSpec) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, is := range derive.CheckModel(spec) {
		if is.Warning {
			diags = diags.Append(diag.Warnf(m.Range(is.Field), "Questionable model figures", "%s", is.Msg))
		} else {
			diags = diags.Append(diag.Errorf(m.Range(is.Field), "Invalid model figures", "%s", is.Msg))
		}
	}
	return diags
}

// jobLayout reads the parallelism block (data parallelism fills the rest of the world when
// unset) and checks it against the world size, the NVLink domain and the model.
func jobLayout(inst *Instance, world int, shape clusterShape) (derive.Layout, diag.Diagnostics) {
	p := inst.Block("parallelism")
	if !p.IsSet() {
		return derive.Layout{Tensor: 1, Pipeline: 1, Data: world, Context: 1, Expert: 1}, nil
	}
	pick := func(name string, def int) int {
		if v := p.Int(name); v > 0 {
			return v
		}
		return def
	}
	lay := derive.Layout{Tensor: pick("tensor", 1), Pipeline: pick("pipeline", 1), Context: pick("context", 1), Expert: pick("expert", 1)}
	lay.Data = pick("data", max(world/max(lay.Tensor*lay.Pipeline*lay.Context, 1), 1))
	m := inst.Block("model")
	var diags diag.Diagnostics
	for _, is := range derive.CheckLayout(lay, world, m.Int("heads"), m.Int("layers"), shape.nvlinkDomain) {
		rng := p.Body.MissingItemRange
		if p.Body.Expr(is.Field) != nil {
			rng = p.Range(is.Field)
		}
		if is.Warning {
			diags = diags.Append(diag.Warnf(rng, "Questionable parallel layout", "%s", is.Msg))
		} else {
			diags = diags.Append(diag.Errorf(rng, "Invalid parallel layout", "%s", is.Msg))
		}
	}
	return lay, diags
}

func jobMemory(inst *Instance, m BlockValue, spec derive.ModelSpec, lay derive.Layout, shape clusterShape) diag.Diagnostics {
	est := derive.MemoryPerGPU(spec, lay)
	inst.Derived["memory_per_gpu_gb"] = NumberVal(est.TotalGB)
	if shape.gpuMemGB > 0 && est.TotalGB > shape.gpuMemGB*gpuHeadroom {
		return diag.Diagnostics{diag.Errorf(m.Body.MissingItemRange, "Model does not fit in GPU memory",
			"The estimate is %.1f GB per GPU (%.1f GB model states + %.1f GB activations), more than %.0f%% of the %.0f GB each GPU has. %s",
			est.TotalGB, est.ModelStatesGB, est.ActivationsGB, gpuHeadroom*100, shape.gpuMemGB, memoryHint(m))}
	}
	return nil
}

func memoryHint(m BlockValue) string {
	if m.Int("zero_stage") == 0 {
		return "Shard the optimizer state with zero_stage = 1 (or 3), or raise tensor or pipeline parallelism."
	}
	return "Raise tensor or pipeline parallelism, or use activation recompute."
}

func deriveDR(inst *Instance, l Lookup) diag.Diagnostics {
	var diags diag.Diagnostics
	pa, sa := inst.Str("primary"), inst.Str("secondary")
	if pa == sa {
		return diags.Append(diag.Errorf(inst.Range("secondary"), "DR secondary is the primary",
			"primary and secondary are both %s; a disaster-recovery site must be another facility.", pa))
	}
	p, s := l.Instance(pa), l.Instance(sa)
	if p != nil && s != nil && p.IsSet("latitude") && s.IsSet("latitude") {
		inst.Derived["distance_km"] = NumberVal(derive.DistanceKM(p.Num("latitude"), p.Num("longitude"), s.Num("latitude"), s.Num("longitude")))
	}
	// Without dataset_tb, assume the replicated clusters are filled to their planning
	// capacity: the worst case a restore must survive.
	dataset := inst.Num("dataset_tb")
	if !inst.IsSet("dataset_tb") {
		for _, a := range inst.Strings("replicate") {
			if st := l.Instance(a); st != nil {
				dataset += st.DerivedNum("planning_tb")
			}
		}
	}
	if !inst.IsSet("link_gbps") {
		return diags // without a link there is nothing to derive about replication
	}
	r, err := derive.DR(derive.DRInput{
		ChangeRateTBPerDay: inst.Num("change_rate_tb_per_day"), LinkGbps: inst.Num("link_gbps"),
		IntervalMinutes: inst.Num("replication_interval_minutes"), DatasetTB: dataset, Mode: inst.Str("mode"),
		RPOMinutes: inst.Num("rpo_minutes"), RTOMinutes: inst.Num("rto_minutes"),
	})
	if err != nil {
		return diags.Append(inputErrorDiag(inst, err, "Invalid disaster-recovery figures"))
	}
	inst.Derived["effective_rpo_minutes"] = NumberVal(r.EffectiveRPOMinutes)
	inst.Derived["restore_hours"] = NumberVal(r.RestoreHours)
	inst.Derived["rto_feasible"] = cty.BoolVal(r.RTOFeasible)
	switch {
	case !r.BandwidthSufficient:
		diags = diags.Append(diag.Errorf(inst.Range("link_gbps"), "Replication link too slow",
			"Meeting rpo_minutes = %g with %g TB/day of changes needs %.1f Gb/s including protocol overhead, but link_gbps = %g. Raise link_gbps, replicate more often, or relax the RPO.",
			inst.Num("rpo_minutes"), inst.Num("change_rate_tb_per_day"), r.RequiredGbps, inst.Num("link_gbps")))
	case !r.RPOFeasible:
		diags = diags.Append(diag.Errorf(inst.Range("rpo_minutes"), "RPO not achievable",
			"With replication every %g minutes over %g Gb/s, the effective RPO is %.1f minutes, more than rpo_minutes = %g. Replicate more often or raise link_gbps.",
			inst.Num("replication_interval_minutes"), inst.Num("link_gbps"), r.EffectiveRPOMinutes, inst.Num("rpo_minutes")))
	}
	if !r.RTOFeasible {
		diags = diags.Append(diag.Warnf(inst.Range("rto_minutes"), "RTO at risk",
			"Recovery is estimated at %.0f minutes (provisioning plus restoring %.0f TB over the link), more than rto_minutes = %g. %s",
			r.RTOMinutes, dataset, inst.Num("rto_minutes"), rtoHint(inst.Str("mode"))))
	}
	return diags
}

func rtoHint(mode string) string {
	if mode == "backup_restore" || mode == "pilot_light" {
		return "Pre-seed the secondary (mode = \"warm_standby\") or raise link_gbps."
	}
	return fmt.Sprintf("Check the figures for mode %q.", mode)
}

// setDefault fills an unset whole-number argument with a value derived from elsewhere.
func setDefault(inst *Instance, name string, v int) {
	if i := inst.Resource.Spec.Index(name); i >= 0 && inst.Values[i].IsNull() {
		inst.Values[i] = cty.NumberIntVal(int64(v))
	}
}
