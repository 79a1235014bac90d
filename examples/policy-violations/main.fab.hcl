# A configuration that breaks several bundled policies on purpose: fabrica plan exits 3
# and lists each finding on its line. The test next to it (cmd/fabrica, TestPolicyViolations)
# asserts the exact findings.

facility "legacy" {
  it_power_kw      = 115
  design_pue       = 1.6
  rack_cooling     = "air"
  power_redundancy = "N"
}

hardware "gpu" {
  count       = 8
  facility    = facility.legacy
  device_type = "dgx-h100"
  rack        = "r${floor(count.index / 4)}"
}

fabric "compute" {
  facility  = facility.legacy
  transport = "infiniband"
  topology  = "rail_optimized"
  endpoints = hardware.gpu
}

storage "scratch" {
  facility        = facility.legacy
  kind            = "ceph"
  nodes           = 4
  drives_per_node = 4
  drive_tb        = 7.68

  protection {
    mode     = "replicated"
    replicas = 2
  }
}

training_cluster "pod" {
  facility  = facility.legacy
  scheduler = "local"
  hardware  = hardware.gpu
  fabric    = fabric.compute
}

training_job "pretrain" {
  cluster            = training_cluster.pod
  command            = ["python3", "train.py"]
  image              = "nvcr.io/nvidia/pytorch:24.05-py3"
  processes_per_node = 8
  wait               = "none"

  env = {
    HF_TOKEN = "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"
  }

  checkpoint {
    dir              = "/scratch/ckpt"
    interval_minutes = 240
  }
}
