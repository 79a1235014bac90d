# A loop through a local value is named from the resource block in it.
facility "lab" {
  it_power_kw = 100
  design_pue  = 1.2
}

locals {
  r = hardware.a.rack
}

hardware "a" { # ERROR: Dependency cycle
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = local.r
}
