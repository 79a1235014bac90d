# A Slurm partition is one word; a space would reach sbatch as a wrong partition name.
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
  scheduler = "slurm"
  partition = "gpu nodes" # ERROR: Invalid value for partition
  hardware  = hardware.gpu
}
