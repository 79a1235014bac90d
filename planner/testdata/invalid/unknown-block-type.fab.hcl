# A misspelled resource kind.
facilty "lab" { # ERROR: Unsupported block type (did you mean)
  it_power_kw = 50
  design_pue  = 1.25
}
