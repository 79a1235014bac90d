# A misspelled required argument: it is both unsupported and missing.
facility "lab" { # ERROR: Missing required argument (detail: it_power_kw)
  it_power_kv = 50 # ERROR: Unsupported argument (did you mean)
  design_pue  = 1.25
}
