# Two DGX H100 in one rack draw 20.4 kW against a 15 kW rack limit.
facility "lab" {
  it_power_kw         = 100
  design_pue          = 1.25
  rack_power_limit_kw = 15 # ERROR: Rack over its power limit
}

hardware "gpu" {
  count       = 2
  facility    = facility.lab
  device_type = "dgx-h100"
  rack        = "r01"
}
