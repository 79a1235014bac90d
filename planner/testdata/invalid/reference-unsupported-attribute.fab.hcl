# An output reading an attribute a facility does not have.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

output "load" {
  value = facility.lab.it_load # ERROR: Unsupported attribute
}
