# command is a list of strings, not one string.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  count       = 2
  facility    = facility.lab
  device_type = "cpu-server"
}

training_cluster "main" {
  facility  = facility.lab
  scheduler = "local"
  hardware  = hardware.node
}

training_job "train" {
  cluster = training_cluster.main
  command = "python3 train.py" # ERROR: Incorrect argument type
}
