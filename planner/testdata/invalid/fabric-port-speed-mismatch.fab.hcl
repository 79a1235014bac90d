# DGX H100 compute NICs run at 400 Gb/s.
facility "lab" {
  it_power_kw = 200
  design_pue  = 1.25
}

hardware "gpu" {
  count       = 2
  facility    = facility.lab
  device_type = "dgx-h100"
}

fabric "compute" {
  facility        = facility.lab
  transport       = "infiniband"
  endpoints       = hardware.gpu
  port_speed_gbps = 200 # ERROR: Port speed does not match the NICs
}
