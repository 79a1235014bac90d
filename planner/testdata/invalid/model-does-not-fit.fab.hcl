# 70B parameters with plain data parallelism do not fit in 80 GB GPUs.
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

  model { # ERROR: Model does not fit in GPU memory
    parameters_b = 70
    layers       = 80
    hidden       = 8192
    heads        = 64
    seq_len      = 4096
  }
}
