# A DGX H100 has 8 GPUs, not 16.
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
  cluster       = training_cluster.main
  command       = ["python3", "train.py"]
  gpus_per_node = 16 # ERROR: Not enough GPUs per node
}
