# depends_on takes references, not strings.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = facility.lab
  device_type = "cpu-server"
  depends_on  = ["facility.lab"] # ERROR: Invalid depends_on reference
}
