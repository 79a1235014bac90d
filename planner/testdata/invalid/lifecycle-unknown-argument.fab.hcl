# A misspelled lifecycle argument.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25

  lifecycle {
    prevent_destory = true # ERROR: Unsupported argument (did you mean)
  }
}
