# A division by zero gives an infinite power budget.
facility "lab" {
  it_power_kw = 50 / 0 # ERROR: Invalid value for it_power_kw (detail: finite)
  design_pue  = 1.25
}
