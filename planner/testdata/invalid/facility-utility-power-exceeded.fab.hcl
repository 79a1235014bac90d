# 20.4 kW of IT load at PUE 1.5 needs 30.6 kW from a 20 kW utility feed.
facility "lab" {
  it_power_kw      = 100
  utility_power_kw = 20 # ERROR: Facility load exceeds utility power
  design_pue       = 1.5
}

hardware "gpu" {
  count       = 2
  facility    = facility.lab
  device_type = "dgx-h100"
  rack        = "r${count.index}"
}
