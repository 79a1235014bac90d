# An address string naming an instance past the end of a counted pool.
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
  hardware  = [for i in [0, 5] : format("hardware.node[%d]", i)] # ERROR: Reference to undeclared resource instance
}
