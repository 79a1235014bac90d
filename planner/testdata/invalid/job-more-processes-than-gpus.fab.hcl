facility "f" {
  it_power_kw  = 100
  design_pue   = 1.2
  rack_cooling = "rdhx"
}

hardware "gpu" {
  count       = 2
  facility    = facility.f
  device_type = "dgx-h100"
}

training_cluster "c" {
  facility  = facility.f
  scheduler = "local"
  hardware  = hardware.gpu
}

training_job "j" {
  cluster            = training_cluster.c
  command            = ["train"]
  gpus_per_node      = 4
  processes_per_node = 8 # ERROR: More processes than GPUs
}
