package bench

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/fabrica-iac/fabrica/schema/catalog"
	"github.com/fabrica-iac/fabrica/schema/derive"
)

// Style is how Generate writes the compute hardware.
type Style int

const (
	// StyleCountPerRack writes one hardware block per rack with count = NodesPerRack.
	StyleCountPerRack Style = iota
	// StyleBlockPerNode writes one hardware block per node.
	StyleBlockPerNode
)

// String returns the style's name as the -style flag of cmd/fabrica-gen spells it.
func (s Style) String() string {
	if s == StyleBlockPerNode {
		return "node"
	}
	return "count"
}

// ParseStyle parses "count" or "node".
func ParseStyle(s string) (Style, error) {
	switch s {
	case "count":
		return StyleCountPerRack, nil
	case "node":
		return StyleBlockPerNode, nil
	}
	return 0, fmt.Errorf("unknown style %q: use \"count\" (one count block per rack) or \"node\" (one block per node)", s)
}

// Defaults of Options' zero fields.
const (
	DefaultNodesPerRack     = 4    // DGX H100: 4 × 10.2 kW in a 45 kW rack
	DefaultRacksPerPod      = 32   // 128 nodes: four 32-node scalable units
	DefaultRacksPerFacility = 1024 // 4,096 nodes, about 45 MW of IT load
	DefaultStorageServers   = 16   // per facility
	DefaultDeviceType       = "dgx-h100"
)

// Options describe the configuration to generate. Zero fields take the defaults above.
type Options struct {
	// Nodes is the number of compute nodes (hardware instances of DeviceType).
	Nodes int
	// NodesPerRack is how many nodes share a rack (and a count block).
	NodesPerRack int
	// RacksPerPod is how many racks share a compute fabric, a training cluster and a job.
	RacksPerPod int
	// RacksPerFacility is how many racks one facility (one file) holds.
	RacksPerFacility int
	// StorageServers is the number of storage-server hardware instances per facility;
	// they back the facility's Ceph cluster and sit on its storage fabric (at least 3).
	StorageServers int
	// Style is how the compute hardware is written.
	Style Style
	// DeviceType is one of DeviceTypes(); another name means DefaultDeviceType.
	DeviceType string
	// NoJobs leaves out the training jobs, for plan/apply benchmarks that run only the
	// sim provider.
	NoJobs bool
}

// DeviceTypes lists the device types Generate lays out: the built-in GPU servers (not
// rack-scale systems such as gb200-nvl72, whose rack is one device).
func DeviceTypes() []string { return []string{"dgx-b200", "dgx-h100", "dgx-h200"} }

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.NodesPerRack, DefaultNodesPerRack)
	def(&o.RacksPerPod, DefaultRacksPerPod)
	def(&o.RacksPerFacility, DefaultRacksPerFacility)
	def(&o.StorageServers, DefaultStorageServers)
	o.StorageServers = max(o.StorageServers, 3)
	o.Nodes = max(o.Nodes, 0)
	if o.DeviceType == "" {
		o.DeviceType = DefaultDeviceType
	}
	return o
}

// Shape is what Generate writes for a set of Options.
type Shape struct {
	Facilities, Racks, Pods int
	// ComputeNodes equals Options.Nodes; StorageServers is the total over all facilities.
	ComputeNodes, StorageServers int
	// GPUs is ComputeNodes × the device type's GPUs.
	GPUs int
	// Instances is every resource instance the configuration declares.
	Instances int
}

// Shape returns the counts Generate(o) produces, for tests and reports.
func (o Options) Shape() Shape {
	l := o.layout()
	s := Shape{Facilities: len(l.facilities), Racks: l.racks, ComputeNodes: l.o.Nodes, GPUs: l.o.Nodes * l.dt.GPUs}
	for _, f := range l.facilities {
		s.Pods += len(f.pods)
	}
	s.StorageServers = s.Facilities * l.o.StorageServers
	// Per facility: the facility, its storage servers, Ceph and the storage fabric; per
	// pod: a compute fabric, a cluster and a job.
	s.Instances = s.ComputeNodes + s.StorageServers + 4*s.Facilities + 3*s.Pods
	if o.NoJobs {
		s.Instances -= s.Pods
	}
	return s
}

// layout is Options resolved into facilities, pods and racks.
type layout struct {
	o          Options
	dt         catalog.DeviceType
	storage    catalog.DeviceType
	racks      int
	facilities []facilityLayout
	// name widths
	wFac, wRack, wNode, wPod, wStor int
}

type facilityLayout struct {
	index          int     // 0-based
	firstRack, end int     // racks [firstRack, end)
	pods           [][]int // rack indexes per pod
}

func (o Options) layout() layout {
	o = o.withDefaults()
	cat := catalog.Builtin()
	dt, ok := cat[o.DeviceType]
	if !ok || !slices.Contains(DeviceTypes(), o.DeviceType) {
		dt = cat[DefaultDeviceType]
		o.DeviceType = DefaultDeviceType
	}
	l := layout{o: o, dt: dt, storage: cat["storage-server"]}
	l.racks = ceilDiv(o.Nodes, o.NodesPerRack)
	for first := 0; first < l.racks; first += o.RacksPerFacility {
		f := facilityLayout{index: len(l.facilities), firstRack: first, end: min(first+o.RacksPerFacility, l.racks)}
		for p := f.firstRack; p < f.end; p += o.RacksPerPod {
			var pod []int
			for r := p; r < min(p+o.RacksPerPod, f.end); r++ {
				pod = append(pod, r)
			}
			f.pods = append(f.pods, pod)
		}
		l.facilities = append(l.facilities, f)
	}
	l.wFac = max(3, digits(len(l.facilities)))
	l.wRack = max(6, digits(l.racks))
	l.wNode = max(6, digits(o.Nodes))
	l.wPod = max(2, digits(ceilDiv(o.RacksPerFacility, o.RacksPerPod)))
	l.wStor = max(2, digits(o.StorageServers))
	return l
}

// Generate returns the configuration as file contents keyed by file name, one file per
// facility (facility-001.fab.hcl, …), ready for schema.LoadSources. The output is
// deterministic and already formatted as `fabrica fmt` would write it. Nodes = 0
// yields no files.
func Generate(o Options) map[string][]byte {
	l := o.layout()
	files := make(map[string][]byte, len(l.facilities))
	for _, f := range l.facilities {
		var b bytes.Buffer
		l.writeFacility(&b, f)
		files[fmt.Sprintf("facility-%0*d.fab.hcl", l.wFac, f.index+1)] = b.Bytes()
	}
	return files
}

// rackKW is the nameplate load of a full rack.
func (l *layout) rackKW() float64 { return float64(l.o.NodesPerRack) * l.dt.MaxPowerKW }

// rackCooling is the least dense rack cooling that removes a full rack's heat and suits
// the device type: rdhx (rear-door heat exchangers, 80 kW), dlc (150 kW) or immersion.
func (l *layout) rackCooling() string {
	for _, c := range []string{derive.RackCoolingRDHx, derive.RackCoolingDLC} {
		if l.rackKW() <= derive.RackCoolingLimitKW(c) && derive.CoolingSatisfies(c, l.dt.CoolingRequired) {
			return c
		}
	}
	return derive.RackCoolingImmersion
}

// MaxRackKW is the most a rack may draw: what immersion cooling removes. Generate's
// configuration is invalid when NodesPerRack nodes of DeviceType draw more.
func MaxRackKW() float64 { return derive.RackCoolingLimitKW(derive.RackCoolingImmersion) }

// RackKW returns the nameplate load of one full rack for these options.
func (o Options) RackKW() float64 { l := o.layout(); return l.rackKW() }

func (l *layout) facName(f facilityLayout) string { return fmt.Sprintf("f%0*d", l.wFac, f.index+1) }
func (l *layout) rackName(r int) string           { return "r" + pad(r+1, l.wRack) }
func (l *layout) nodeName(n int) string           { return "n" + pad(n+1, l.wNode) }

// rackNodes returns the nodes [first, end) of rack r.
func (l *layout) rackNodes(r int) (int, int) {
	return r * l.o.NodesPerRack, min((r+1)*l.o.NodesPerRack, l.o.Nodes)
}

// hardwareRefs returns the references to the compute hardware of some racks: one per
// rack block (count style) or one per node block.
func (l *layout) hardwareRefs(racks []int) []string {
	var out []string
	for _, r := range racks {
		if l.o.Style == StyleCountPerRack {
			out = append(out, "hardware."+l.rackName(r))
			continue
		}
		first, end := l.rackNodes(r)
		for n := first; n < end; n++ {
			out = append(out, "hardware."+l.nodeName(n))
		}
	}
	return out
}

func (l *layout) writeFacility(b *bytes.Buffer, f facilityLayout) {
	o, dt := l.o, l.dt
	fac := l.facName(f)
	var racks []int
	for r := f.firstRack; r < f.end; r++ {
		racks = append(racks, r)
	}
	nodes := 0
	for _, r := range racks {
		first, end := l.rackNodes(r)
		nodes += end - first
	}

	// Facility power: the nodes, the storage servers (counted as hardware and again as
	// the Ceph cluster's nodes), the switches at 1.7 kW (an upper bound: a full_su fabric
	// has at most as many spines as leaves, and a fat tree half as many cores), and 10%.
	switches := 2.5 * float64(ceilDiv(nodes+o.StorageServers, 32))
	for _, pod := range f.pods {
		first, _ := l.rackNodes(pod[0])
		_, end := l.rackNodes(pod[len(pod)-1])
		switches += 2.5 * float64(max(dt.Rails, 1)*ceilDiv(end-first, 32))
	}
	itKW := (float64(nodes)*dt.MaxPowerKW + 2*float64(o.StorageServers)*l.storage.MaxPowerKW + 1.7*switches) * 1.1
	itKW = math.Ceil(itKW/100) * 100
	rackCooling := l.rackCooling()
	fmt.Fprintf(b, "# Generated by fabrica-gen: facility %d of %d, %d racks, %d %s nodes, %s style.\n\n",
		f.index+1, len(l.facilities), len(racks), nodes, o.DeviceType, o.Style)
	fmt.Fprintf(b, `facility %q {
  it_power_kw         = %g
  utility_power_kw    = %g
  design_pue          = 1.25
  region              = "region-%d"
  tier                = 3
  cooling             = "hybrid"
  rack_cooling        = %q
  rack_power_limit_kw = %g
  power_redundancy    = "2N"
  renewable_fraction  = 0.5
  carbon_g_per_kwh    = 350
}

`, fac, itKW, math.Ceil(itKW*1.5/100)*100, f.index%8+1, rackCooling, math.Ceil(l.rackKW()*1.1))

	// Compute hardware.
	for _, r := range racks {
		first, end := l.rackNodes(r)
		if o.Style == StyleCountPerRack {
			fmt.Fprintf(b, `hardware %q {
  count       = %d
  facility    = facility.%s
  device_type = %q
  rack        = %q
  role        = "compute"
}

`, l.rackName(r), end-first, fac, o.DeviceType, l.rackName(r))
			continue
		}
		for n := first; n < end; n++ {
			fmt.Fprintf(b, `hardware %q {
  facility    = facility.%s
  device_type = %q
  rack        = %q
  role        = "compute"
}

`, l.nodeName(n), fac, o.DeviceType, l.rackName(r))
		}
	}

	// Storage servers, in the same style, and the Ceph cluster they run.
	var storageRefs []string
	if o.Style == StyleCountPerRack {
		name := fac + "_storage"
		storageRefs = []string{"hardware." + name}
		fmt.Fprintf(b, `hardware %q {
  count       = %d
  facility    = facility.%s
  device_type = "storage-server"
  rack        = "%s-storage"
  role        = "storage"
}

`, name, o.StorageServers, fac, fac)
	} else {
		for i := range o.StorageServers {
			name := fmt.Sprintf("%s_s%0*d", fac, l.wStor, i+1)
			storageRefs = append(storageRefs, "hardware."+name)
			fmt.Fprintf(b, `hardware %q {
  facility    = facility.%s
  device_type = "storage-server"
  rack        = "%s-storage"
  role        = "storage"
}

`, name, fac, fac)
		}
	}
	protection := "    mode          = \"erasure\"\n    data_chunks   = 4\n    coding_chunks = 2\n"
	if o.StorageServers < 6 {
		protection = "    mode     = \"replicated\"\n    replicas = 3\n"
	}
	fmt.Fprintf(b, `storage "%s_ceph" {
  facility        = facility.%s
  kind            = "ceph"
  nodes           = %d
  drives_per_node = %d
  drive_tb        = %g

  protection {
%s  }

  encryption_at_rest    = true
  encryption_in_transit = true
  nearfull_ratio        = 0.85
}

`, fac, fac, o.StorageServers, max(l.storage.DrivesPerNode, 1), max(l.storage.DriveTB, 1), protection)

	// The storage fabric connects every node and storage server of the facility: one
	// port each, so it needs three tiers above 64 leaves of 32 node ports.
	storageEndpoints := nodes + o.StorageServers
	topology := "leaf_spine"
	if ceilDiv(storageEndpoints, 32) > 64 {
		topology = "three_tier"
	}
	fmt.Fprintf(b, `fabric "%s_storage" {
  facility     = facility.%s
  kind         = "storage"
  transport    = "roce"
  topology     = %q
  switch_radix = 64
  spine_sizing = "full_su"
  isolation    = "vrf"
  pfc_priority = 3
  ecn          = true

  endpoints = `, fac, fac, topology)
	l.writeRefs(b, append(l.hardwareRefs(racks), storageRefs...))
	b.WriteString("}\n\n")

	// The out-of-band management fabric: every server's BMC, apart from compute.
	fmt.Fprintf(b, `fabric "%s_oob" {
  facility     = facility.%s
  kind         = "oob"
  transport    = "ethernet"
  topology     = %q
  switch_radix = 64
  spine_sizing = "full_su"
  isolation    = "vlan"

  endpoints = `, fac, fac, topology)
	l.writeRefs(b, append(l.hardwareRefs(racks), storageRefs...))
	b.WriteString("}\n\n")

	// Per pod: a rail-optimized compute fabric, a Slurm cluster and a job filling it.
	for p, pod := range f.pods {
		name := fmt.Sprintf("%s_p%0*d", fac, l.wPod, p+1)
		podNodes := 0
		for _, r := range pod {
			first, end := l.rackNodes(r)
			podNodes += end - first
		}
		refs := l.hardwareRefs(pod)
		topology := "rail_optimized"
		if max(dt.Rails, 1)*ceilDiv(podNodes, 32) > 64 {
			topology = "three_tier"
		}
		fmt.Fprintf(b, `fabric %q {
  facility         = facility.%s
  kind             = "compute"
  transport        = "infiniband"
  topology         = %q
  switch_radix     = 64
  port_speed_gbps  = %g
  oversubscription = "1:1"
  spine_sizing     = "full_su"
  isolation        = "pkey"
  partitions       = ["training"]
  subnet_manager   = "ufm"

  endpoints = `, name, fac, topology, dt.NICSpeedGbps)
		l.writeRefs(b, refs)
		b.WriteString("}\n\n")

		fmt.Fprintf(b, `training_cluster %q {
  facility  = facility.%s
  scheduler = "slurm"
  partition = "gpu"
  fabric    = fabric.%s
  storage   = storage.%s_ceph

  hardware = `, name, fac, name, fac)
		l.writeRefs(b, refs)
		b.WriteString("}\n\n")

		if l.o.NoJobs {
			continue
		}
		gpus := max(dt.GPUs, 1)
		tensor := gpus
		if dt.NVLinkDomain > 0 {
			tensor = gcd(gpus, min(dt.NVLinkDomain, 8))
		}
		fmt.Fprintf(b, `training_job %q {
  cluster            = training_cluster.%s
  command            = ["python3", "-m", "megatron.train", "--config", "llama8b.yaml"]
  image              = "nvcr.io/nvidia/pytorch@sha256:4f1e0c2bb7ab7c0e6b4f4d09e3d0a9a2c6b6b8f8b1e0c2bb7ab7c0e6b4f4d09e"
  nodes              = %d
  gpus_per_node      = %d
  processes_per_node = %d
  max_restarts       = 3
  wait               = "none"

  parallelism {
    tensor   = %d
    pipeline = 1
    data     = %d
  }

  model {
    parameters_b = 8
    layers       = 32
    hidden       = 4096
    heads        = 32
    seq_len      = 8192
    micro_batch  = 1
    zero_stage   = 1
  }

  checkpoint {
    dir              = "/ceph/checkpoints/%s"
    interval_minutes = 30
  }
}

`, name, name, podNodes, gpus, gpus, tensor, podNodes*gpus/tensor, name)
	}

	fmt.Fprintf(b, `output "%s_gpus" {
  value = facility.%s.gpus
}
`, fac, fac)
}

// writeRefs writes a list of hardware references as the value of an argument: a tuple
// of node references, or concat() of rack blocks' tuples, eight to a line.
func (l *layout) writeRefs(b *bytes.Buffer, refs []string) {
	open, end := "[", "]"
	if l.o.Style == StyleCountPerRack {
		open, end = "concat(", ")"
	}
	b.WriteString(open)
	b.WriteString("\n")
	for i := 0; i < len(refs); i += 8 {
		b.WriteString("    ")
		for j, r := range refs[i:min(i+8, len(refs))] {
			if j > 0 {
				b.WriteString(" ")
			}
			b.WriteString(r)
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("  ")
	b.WriteString(end)
	b.WriteString("\n")
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func digits(n int) int { return len(strconv.Itoa(max(n, 0))) }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
