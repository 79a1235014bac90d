# The model block needs parameters_b.
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
  cluster = training_cluster.main
  command = ["python3", "train.py"]

  model { # ERROR: Missing required argument (detail: parameters_b)
    layers = 32
  }
}
