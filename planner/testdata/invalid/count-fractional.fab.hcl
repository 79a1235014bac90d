# A fractional count.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  count       = 2.5 # ERROR: Invalid count argument
  facility    = facility.lab
  device_type = "cpu-server"
}
