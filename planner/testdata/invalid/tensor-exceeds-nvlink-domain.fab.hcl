# Tensor parallelism must stay inside one NVLink domain (8 GPUs on a DGX H100).
facility "lab" {
  it_power_kw = 200
  design_pue  = 1.25
}

hardware "gpu" {
  count       = 2
  facility    = facility.lab
  device_type = "dgx-h100"
}

training_cluster "main" {
  facility  = facility.lab
  scheduler = "local"
  hardware  = hardware.gpu
}

training_job "train" {
  cluster            = training_cluster.main
  command            = ["python3", "train.py"]
  nodes              = 2
  processes_per_node = 8

  parallelism {
    tensor = 16 # ERROR: Invalid parallel layout (detail: NVLink domain)
    data   = 1
  }
}
