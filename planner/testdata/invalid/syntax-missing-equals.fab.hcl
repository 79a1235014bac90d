# An argument without "=" between its name and its value.
facility "lab" {
  it_power_kw 50 # ERROR: Argument or block definition required
  design_pue  = 1.25
}
