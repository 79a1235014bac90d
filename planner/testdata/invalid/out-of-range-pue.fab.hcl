# A PUE below 1 is impossible.
facility "lab" {
  it_power_kw = 50
  design_pue  = 0.9 # ERROR: Value out of range
}
