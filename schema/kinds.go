package schema

import (
	"sort"

	"github.com/zclconf/go-cty/cty"
)

// Resource kinds.
const (
	KindFacility        = "facility"
	KindHardware        = "hardware"
	KindFabric          = "fabric"
	KindStorage         = "storage"
	KindTrainingCluster = "training_cluster"
	KindTrainingJob     = "training_job"
	KindDRSite          = "dr_site"
)

// kinds is the schema of every resource kind, from DESIGN.md §3.
var kinds = map[string]*KindSpec{
	KindFacility: {
		Name: KindFacility, Doc: "a site / AI factory",
		BlockSpec: BlockSpec{Attrs: []*Attr{
			num("it_power_kw").req(),
			num("design_pue").req().between(1, 3),
			num("utility_power_kw"),
			str("region"), str("jurisdiction"),
			whole("tier").between(1, 4),
			num("latitude").between(-90, 90), num("longitude").between(-180, 180),
			str("cooling", "air", "liquid", "hybrid").def(cty.StringVal("air")),
			num("rack_power_limit_kw"),
			str("rack_cooling", "air", "rdhx", "dlc", "immersion").def(cty.StringVal("air")),
			str("power_redundancy", "N", "N+1", "2N").def(cty.StringVal("N")),
			num("renewable_fraction").between(0, 1),
			num("carbon_g_per_kwh").def(cty.NumberIntVal(400)),
			num("price_per_mwh"),
		}},
		Derived: []string{"it_load_kw", "facility_load_kw", "power_headroom_kw", "annual_energy_mwh", "annual_co2_t", "racks", "gpus"},
	},
	KindHardware: {
		Name: KindHardware, Doc: "one server (use count or for_each for pools)",
		BlockSpec: BlockSpec{Attrs: []*Attr{
			ref("facility", KindFacility).req(),
			str("device_type").req(),
			str("rack"),
			str("role", "compute", "storage", "management").def(cty.StringVal("compute")),
			{Name: "tags", Type: cty.Map(cty.String)},
		}},
		Derived: []string{"gpus", "gpu_memory_gb", "power_kw", "rack_units", "rails"},
	},
	KindFabric: {
		Name: KindFabric, Doc: "a network fabric",
		BlockSpec: BlockSpec{Attrs: []*Attr{
			ref("facility", KindFacility).req(),
			str("transport", "infiniband", "roce", "ethernet").req(),
			refs("endpoints", KindHardware).req(),
			str("kind", "compute", "storage", "inband", "oob").def(cty.StringVal("compute")),
			str("topology", "rail_optimized", "leaf_spine", "three_tier").def(cty.StringVal("leaf_spine")),
			whole("switch_radix").between(4, 1024).def(cty.NumberIntVal(64)),
			num("port_speed_gbps"),
			str("oversubscription").def(cty.StringVal("1:1")),
			str("isolation", "pkey", "vlan", "vrf", "none").def(cty.StringVal("none")),
			{Name: "partitions", Type: cty.List(cty.String)},
			str("spine_sizing", "current", "full_su").def(cty.StringVal("current")),
			whole("pfc_priority").between(0, 7),
			boolean("ecn"),
			str("subnet_manager"),
		}},
		Derived: []string{"endpoint_ports", "leaf_switches", "spine_switches", "core_switches", "node_links", "switch_links", "transceivers", "bisection_gbps", "power_kw"},
	},
	KindStorage: {
		Name: KindStorage, Doc: "a storage cluster",
		BlockSpec: BlockSpec{Attrs: []*Attr{
			ref("facility", KindFacility).req(),
			str("kind", "ceph", "hdfs", "lustre", "weka", "nfs", "s3").req(),
			whole("nodes").req().atLeast(1),
			whole("drives_per_node").req().atLeast(1),
			num("drive_tb").req(),
			block("protection",
				str("mode", "replicated", "erasure").def(cty.StringVal("replicated")),
				whole("replicas").atLeast(1),
				whole("data_chunks").atLeast(1),
				whole("coding_chunks").atLeast(1)),
			str("failure_domain", "host", "rack").def(cty.StringVal("host")),
			whole("racks").atLeast(1),
			boolean("encryption_at_rest").def(cty.False),
			boolean("encryption_in_transit").def(cty.False),
			num("nearfull_ratio").between(0.5, 0.97).def(cty.NumberFloatVal(0.85)),
			num("min_usable_tb"),
			str("mount"),
		}},
		Derived: []string{"raw_tb", "usable_tb", "planning_tb", "power_kw"},
	},
	KindTrainingCluster: {
		Name: KindTrainingCluster, Doc: "where jobs run",
		BlockSpec: BlockSpec{Attrs: []*Attr{
			ref("facility", KindFacility).req(),
			str("scheduler", "local", "slurm", "kubernetes").req(),
			refs("hardware", KindHardware).req(),
			ref("fabric", KindFabric),
			ref("storage", KindStorage),
			str("partition").word(), str("namespace").word(),
		}},
		Derived: []string{"nodes", "gpus", "gpu_memory_gb"},
	},
	KindTrainingJob: {
		Name: KindTrainingJob, Doc: "a distributed training run",
		BlockSpec: BlockSpec{Attrs: []*Attr{
			ref("cluster", KindTrainingCluster).req(),
			{Name: "command", Type: cty.List(cty.String), Required: true},
			whole("nodes").atLeast(1),
			whole("gpus_per_node"),
			whole("processes_per_node").atLeast(1),
			{Name: "env", Type: cty.Map(cty.String)},
			block("parallelism",
				whole("tensor").atLeast(1), whole("pipeline").atLeast(1), whole("data").atLeast(1),
				whole("context").atLeast(1), whole("expert").atLeast(1)),
			block("model",
				num("parameters_b").req(), whole("layers").atLeast(1), whole("hidden").atLeast(1),
				whole("heads").atLeast(1), whole("seq_len").atLeast(1), whole("micro_batch").atLeast(1),
				str("precision", "bf16", "fp16", "fp8", "fp32").def(cty.StringVal("bf16")),
				whole("zero_stage").between(0, 3).def(cty.NumberIntVal(0)),
				num("bytes_per_param").def(cty.NumberIntVal(16)),
				str("recompute", "selective", "full", "none").def(cty.StringVal("selective"))),
			block("checkpoint", str("dir"), num("interval_minutes")),
			whole("max_restarts").def(cty.NumberIntVal(0)),
			str("wait", "none", "running", "completed").def(cty.StringVal("running")),
			str("image"),
			str("workdir"),
		}},
		Derived: []string{"world_size", "memory_per_gpu_gb", "partition"},
	},
	KindDRSite: {
		Name: KindDRSite, Doc: "a disaster-recovery pairing",
		BlockSpec: BlockSpec{Attrs: []*Attr{
			ref("primary", KindFacility).req(),
			ref("secondary", KindFacility).req(),
			num("rpo_minutes").req(),
			num("rto_minutes").req(),
			str("mode", "backup_restore", "pilot_light", "warm_standby", "active_active").def(cty.StringVal("warm_standby")),
			refs("replicate", KindStorage),
			num("link_gbps"),
			num("change_rate_tb_per_day"),
			num("replication_interval_minutes"),
			num("dataset_tb"),
			boolean("encrypt_in_transit").def(cty.False),
			block("drill", whole("interval_days").atLeast(1), str("last")),
		}},
		Derived: []string{"distance_km", "effective_rpo_minutes", "restore_hours", "rto_feasible"},
	},
}

// deviceTypeSpec is the body of a device_type block.
var deviceTypeSpec = &BlockSpec{Attrs: []*Attr{
	whole("gpus"), str("gpu_model"), num("gpu_memory_gb"), num("gpu_tdp_w"),
	num("max_power_kw"), whole("rack_units").atLeast(1), whole("psu_count"), str("psu_redundancy"),
	whole("rails"), num("nic_speed_gbps"), str("cooling_required", "air", "liquid"),
	whole("nvlink_domain"), whole("drives_per_node"), num("drive_tb"),
}}

func init() {
	for _, k := range kinds {
		k.init(true)
	}
	deviceTypeSpec.init(false)
}

// Kind returns the spec of a resource kind, or nil.
func Kind(name string) *KindSpec { return kinds[name] }

// KindNames returns every resource kind, sorted.
func KindNames() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DeviceTypeSpec returns the spec of a device_type block's body.
func DeviceTypeSpec() *BlockSpec { return deviceTypeSpec }
