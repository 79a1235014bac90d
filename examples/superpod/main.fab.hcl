# An NVIDIA DGX H100 SuperPOD of four scalable units (128 nodes): a rail-optimized
# InfiniBand compute fabric, an Ethernet storage fabric, Ceph storage, a Slurm cluster and
# a 70B-parameter pre-training job. The derived figures match NVIDIA's reference
# architecture: 32 leaf and 16 spine switches for the compute fabric.

fabrica {
  required_version = ">= 0.1"
  backend "local" {
    path = ".fabrica/state.json"
  }
}

variable "scalable_units" {
  type    = number
  default = 4
}

locals {
  nodes_per_su   = 32
  nodes_per_rack = 4
  nodes          = var.scalable_units * local.nodes_per_su
}

facility "pod" {
  it_power_kw         = 2000
  utility_power_kw    = 3000
  design_pue          = 1.3
  region              = "us-east"
  tier                = 3
  cooling             = "hybrid"
  rack_cooling        = "rdhx"
  rack_power_limit_kw = 45
  power_redundancy    = "2N"
  renewable_fraction  = 0.6
  carbon_g_per_kwh    = 380
}

hardware "dgx" {
  count       = local.nodes
  facility    = facility.pod
  device_type = "dgx-h100"
  rack        = format("su%d-r%02d", floor(count.index / local.nodes_per_su) + 1, floor(count.index % local.nodes_per_su / local.nodes_per_rack) + 1)
  role        = "compute"
}

hardware "storage" {
  count       = 10
  facility    = facility.pod
  device_type = "storage-server"
  rack        = "storage-r01"
  role        = "storage"
}

fabric "compute" {
  facility         = facility.pod
  kind             = "compute"
  transport        = "infiniband"
  topology         = "rail_optimized"
  switch_radix     = 64
  port_speed_gbps  = 400
  oversubscription = "1:1"
  endpoints        = hardware.dgx
  isolation        = "pkey"
  partitions       = ["training"]
  subnet_manager   = "ufm"
}

fabric "storage" {
  facility     = facility.pod
  kind         = "storage"
  transport    = "roce"
  topology     = "leaf_spine"
  switch_radix = 64
  endpoints    = concat(hardware.dgx, hardware.storage)
  isolation    = "vrf"
  pfc_priority = 3
  ecn          = true
}

# Out-of-band management: every server's BMC on its own fabric, separate from compute.
fabric "oob" {
  facility     = facility.pod
  kind         = "oob"
  transport    = "ethernet"
  topology     = "leaf_spine"
  switch_radix = 48
  endpoints    = concat(hardware.dgx, hardware.storage)
  isolation    = "vlan"
}

storage "ceph" {
  facility        = facility.pod
  kind            = "ceph"
  nodes           = 10
  drives_per_node = 12
  drive_tb        = 15.36

  protection {
    mode          = "erasure"
    data_chunks   = 4
    coding_chunks = 2
  }

  encryption_at_rest    = true
  encryption_in_transit = true
  nearfull_ratio        = 0.85
}

training_cluster "pod" {
  facility  = facility.pod
  scheduler = "slurm"
  partition = "gpu"
  hardware  = hardware.dgx
  fabric    = fabric.compute
  storage   = storage.ceph
}

training_job "llm70b" {
  cluster            = training_cluster.pod
  command            = ["python3", "-m", "megatron.train", "--config", "llm70b.yaml"]
  image              = "nvcr.io/nvidia/pytorch@sha256:4f1e0c2bb7ab7c0e6b4f4d09e3d0a9a2c6b6b8f8b1e0c2bb7ab7c0e6b4f4d09e"
  nodes              = 64
  gpus_per_node      = 8
  processes_per_node = 8
  max_restarts       = 3
  wait               = "none"

  parallelism {
    tensor   = 8
    pipeline = 4
    data     = 16
  }

  model {
    parameters_b = 70
    layers       = 80
    hidden       = 8192
    heads        = 64
    seq_len      = 4096
    micro_batch  = 1
    zero_stage   = 1
  }

  checkpoint {
    dir              = "/ceph/checkpoints/llm70b"
    interval_minutes = 30
  }
}

output "compute_switches" {
  value = {
    leaf  = fabric.compute.leaf_switches
    spine = fabric.compute.spine_switches
  }
}

output "memory_per_gpu_gb" {
  value = training_job.llm70b.memory_per_gpu_gb
}
