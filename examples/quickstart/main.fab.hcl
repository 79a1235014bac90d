# The quickstart: one small facility, four CPU servers on an Ethernet fabric, a small
# storage cluster, a local training cluster and one data-parallel training job.

variable "site" {
  type        = string
  default     = "lab"
  description = "Name of the site, used in rack names."
}

variable "nodes" {
  type    = number
  default = 4

  validation {
    condition     = var.nodes >= 2 && var.nodes <= 64
    error_message = "The quickstart needs between 2 and 64 nodes."
  }
}

locals {
  rack = "${var.site}-r01"
}

facility "lab" {
  it_power_kw        = 50
  design_pue         = 1.2
  region             = "eu-central"
  jurisdiction       = "de"
  rack_cooling       = "air"
  renewable_fraction = 0.8
  carbon_g_per_kwh   = 350
}

hardware "node" {
  count       = var.nodes
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = local.rack
  tags        = { pool = "quickstart", index = tostring(count.index) }
}

fabric "lan" {
  facility     = facility.lab
  transport    = "ethernet"
  kind         = "compute"
  topology     = "leaf_spine"
  switch_radix = 32
  endpoints    = hardware.node
  isolation    = "vlan"
}

storage "scratch" {
  facility        = facility.lab
  kind            = "ceph"
  nodes           = 3
  drives_per_node = 4
  drive_tb        = "3840 GB"

  protection {
    mode     = "replicated"
    replicas = 3
  }

  encryption_at_rest    = true
  encryption_in_transit = true
}

training_cluster "local" {
  facility  = facility.lab
  scheduler = "local"
  hardware  = [hardware.node[0]]
  fabric    = fabric.lan
  storage   = storage.scratch
}

training_job "logreg" {
  cluster            = training_cluster.local
  command            = ["trainer", "--steps", "200"]
  nodes              = 1
  processes_per_node = 2
  max_restarts       = 1
  wait               = "completed"

  checkpoint {
    dir              = ".fabrica/checkpoints/logreg"
    interval_minutes = 1
  }
}

output "it_load_kw" {
  value = facility.lab.it_load_kw
}

output "world_size" {
  value = training_job.logreg.world_size
}
