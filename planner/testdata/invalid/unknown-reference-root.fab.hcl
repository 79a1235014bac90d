# A misspelled resource kind in a reference.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = facilty.lab # ERROR: Reference to unknown name (did you mean)
  device_type = "cpu-server"
}
