# A reference to an instance past the end of a counted pool.
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
  hardware  = [hardware.node[2]] # ERROR: Invalid index
}
