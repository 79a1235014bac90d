# More pipeline stages than the model has layers.
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
    tensor   = 2
    pipeline = 8 # ERROR: Invalid parallel layout (detail: more stages than)
    data     = 1
  }

  model {
    parameters_b = 1
    layers       = 4
    hidden       = 2048
    heads        = 16
    seq_len      = 2048
  }
}
