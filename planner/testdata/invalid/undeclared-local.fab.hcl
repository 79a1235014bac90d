# A reference to a local value that is not declared.
locals {
  rack = "lab-r01"
}

facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = local.racks # ERROR: Reference to undeclared local value (did you mean)
}
