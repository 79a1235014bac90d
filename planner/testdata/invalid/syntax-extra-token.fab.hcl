# Two values for one argument.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
  region      = "eu-central" "eu-west" # ERROR: Missing newline after argument
}
