# A required argument set to null.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = null # ERROR: Missing required argument
  device_type = "cpu-server"
}
