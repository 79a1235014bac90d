# The provider meta-argument takes a bare name.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
  provider    = "sim" # ERROR: Invalid provider reference
}
