# A word where a number belongs.
facility "lab" {
  it_power_kw = 50
  design_pue  = "high" # ERROR: Incorrect argument type
}
