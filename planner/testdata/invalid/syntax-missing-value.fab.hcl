# An argument with "=" but no value.
facility "lab" {
  it_power_kw = # ERROR: Invalid expression
  design_pue  = 1.25
}
