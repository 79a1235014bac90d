# Four DGX H100 in one air-cooled rack give off 40.8 kW; air removes about 30 kW.
facility "lab" {
  it_power_kw  = 100
  design_pue   = 1.25
  rack_cooling = "air" # ERROR: Rack exceeds its cooling
}

hardware "gpu" {
  count       = 4
  facility    = facility.lab
  device_type = "dgx-h100"
  rack        = "r01"
}
