# A pool whose size depends on itself.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" { # ERROR: Dependency cycle
  count       = length(hardware.node) + 1
  facility    = facility.lab
  device_type = "cpu-server"
}
