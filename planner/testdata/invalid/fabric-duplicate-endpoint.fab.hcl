# One server listed twice.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "a" {
  facility    = facility.lab
  device_type = "cpu-server"
}

fabric "lan" {
  facility  = facility.lab
  transport = "ethernet"
  endpoints = [hardware.a, hardware.a] # ERROR: Duplicate fabric endpoint
}
