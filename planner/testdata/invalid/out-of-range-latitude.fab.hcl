# Latitudes lie between -90 and 90.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
  latitude    = 95 # ERROR: Value out of range
}
