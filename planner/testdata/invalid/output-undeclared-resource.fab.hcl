# An output reading a resource that is not declared.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

output "load" {
  value = facility.main.it_load_kw # ERROR: Reference to undeclared resource
}
