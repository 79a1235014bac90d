# each.key in a block without for_each.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  count       = 2
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = each.key # ERROR: Reference to "each" in a block without for_each
}
