# design_pue is required.
facility "lab" { # ERROR: Missing required argument (detail: design_pue)
  it_power_kw = 50
}
