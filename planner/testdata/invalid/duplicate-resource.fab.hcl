# Two facilities with one name.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

facility "lab" { # ERROR: Duplicate facility resource
  it_power_kw = 80
  design_pue  = 1.3
}
