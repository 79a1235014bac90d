# A reference written as an address string must still name a declared resource.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = "facility.labs" # ERROR: Reference written as a string
  device_type = "cpu-server"
}
