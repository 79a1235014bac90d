# A misspelled optional argument.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
  rack_colling = "dlc" # ERROR: Unsupported argument (did you mean)
}
