# A misspelled device type.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "gpu" {
  facility    = facility.lab
  device_type = "dgx-h10" # ERROR: Unknown device type (did you mean)
}
