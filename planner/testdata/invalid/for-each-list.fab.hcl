# for_each over a list rather than a map or set.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  for_each    = ["r01", "r02"] # ERROR: Invalid for_each argument (detail: toset)
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = each.value
}
