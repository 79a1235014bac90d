# A facility tier is whole.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
  tier        = 2.5 # ERROR: Invalid value for tier
}
