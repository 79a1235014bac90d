# A reference to a facility that is not declared.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = facility.labs # ERROR: Reference to undeclared resource (did you mean)
  device_type = "cpu-server"
}
