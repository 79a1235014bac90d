# Two lifecycle blocks in one resource.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25

  lifecycle {
    prevent_destroy = true
  }

  lifecycle { # ERROR: Duplicate lifecycle block
    prevent_destroy = false
  }
}
