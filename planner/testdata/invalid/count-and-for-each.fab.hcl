# count and for_each together.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  count       = 2
  for_each    = { a = "r01", b = "r02" } # ERROR: Invalid combination of count and for_each
  facility    = facility.lab
  device_type = "cpu-server"
}
