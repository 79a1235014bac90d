# Two servers that each take their rack from the other.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "a" { # ERROR: Dependency cycle
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = hardware.b.rack
}

hardware "b" {
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = hardware.a.rack
}
