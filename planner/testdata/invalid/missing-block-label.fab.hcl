# A resource block without its name label.
facility { # ERROR: Missing name for facility
  it_power_kw = 50
  design_pue  = 1.25
}
