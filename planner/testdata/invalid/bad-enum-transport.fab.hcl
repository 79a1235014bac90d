# A misspelled transport.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  count       = 2
  facility    = facility.lab
  device_type = "cpu-server"
}

fabric "lan" {
  facility  = facility.lab
  transport = "infinband" # ERROR: Invalid value for transport (did you mean)
  endpoints = hardware.node
}
