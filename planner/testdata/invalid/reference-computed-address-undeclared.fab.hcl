facility "lab" {
  it_power_kw = 10
  design_pue  = 1.2
}

hardware "n" {
  facility    = format("facility.%s", "labs") # ERROR: Reference to undeclared resource
  device_type = "cpu-server"
}
