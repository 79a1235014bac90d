# oversubscription is a "down:up" ratio.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  count       = 4
  facility    = facility.lab
  device_type = "cpu-server"
}

fabric "lan" {
  facility         = facility.lab
  transport        = "ethernet"
  endpoints        = hardware.node
  oversubscription = "fast" # ERROR: Invalid oversubscription
}
