# 20 nodes × 2 rails = 40 ports; radix-8 switches reach 32 in two tiers.
facility "lab" {
  it_power_kw = 200
  design_pue  = 1.25
}

hardware "node" {
  count       = 20
  facility    = facility.lab
  device_type = "cpu-server"
}

fabric "lan" {
  facility     = facility.lab
  transport    = "ethernet"
  endpoints    = hardware.node
  topology     = "leaf_spine" # ERROR: Fabric cannot be built as declared (detail: three_tier)
  switch_radix = 8
}
