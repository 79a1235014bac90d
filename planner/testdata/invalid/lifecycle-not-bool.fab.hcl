# prevent_destroy is true or false.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25

  lifecycle {
    prevent_destroy = "yes" # ERROR: Invalid lifecycle argument
  }
}
