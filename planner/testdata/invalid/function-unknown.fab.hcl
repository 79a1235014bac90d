# A misspelled function name.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
  region      = uper("eu") # ERROR: Call to unknown function (did you mean)
}
