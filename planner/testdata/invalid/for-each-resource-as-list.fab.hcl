# A resource with for_each is a map of instances, not a list.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  for_each    = { a = "r01", b = "r02" }
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = each.value
}

fabric "lan" {
  facility  = facility.lab
  transport = "ethernet"
  endpoints = hardware.node # ERROR: Invalid reference (detail: values(hardware.example))
}
