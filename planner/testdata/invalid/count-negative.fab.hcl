# A negative count.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  count       = -1 # ERROR: Invalid count argument
  facility    = facility.lab
  device_type = "cpu-server"
}
