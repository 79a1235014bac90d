# Two DGX H100 draw 20.4 kW, more than the facility's 10 kW of IT power.
facility "lab" {
  it_power_kw = 10 # ERROR: IT load exceeds facility power
  design_pue  = 1.25
}

hardware "gpu" {
  count       = 2
  facility    = facility.lab
  device_type = "dgx-h100"
}
