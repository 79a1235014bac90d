# A fat tree needs an even switch radix.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  count       = 4
  facility    = facility.lab
  device_type = "cpu-server"
}

fabric "lan" {
  facility     = facility.lab
  transport    = "ethernet"
  endpoints    = hardware.node
  switch_radix = 7 # ERROR: Fabric cannot be built as declared (detail: switch_radix)
}
