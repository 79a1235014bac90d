# each has only key and value.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  for_each    = { a = "r01", b = "r02" }
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = each.name # ERROR: Invalid each attribute
}
