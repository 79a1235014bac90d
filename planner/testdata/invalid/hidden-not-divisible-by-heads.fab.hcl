# hidden must divide evenly by heads.
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

  model {
    parameters_b = 1
    layers       = 24
    hidden       = 2000
    heads        = 24 # ERROR: Invalid model figures
    seq_len      = 2048
  }
}
