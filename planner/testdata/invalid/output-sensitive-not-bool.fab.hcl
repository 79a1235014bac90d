# sensitive is true or false.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

output "pue" {
  value     = facility.lab.design_pue
  sensitive = "yes" # ERROR: Invalid sensitive flag
}
