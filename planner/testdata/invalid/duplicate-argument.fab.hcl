# One argument set twice.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
  it_power_kw = 80 # ERROR: Attribute redefined
}
