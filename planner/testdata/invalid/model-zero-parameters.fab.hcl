# A model of zero parameters.
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

  model {
    parameters_b = 0 # ERROR: Invalid model figures
  }
}
