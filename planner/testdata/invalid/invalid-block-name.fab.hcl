# A name that cannot be used in references.
facility "1lab" { # ERROR: Invalid block name
  it_power_kw = 50
  design_pue  = 1.25
}
