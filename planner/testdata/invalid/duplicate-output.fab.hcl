# Two outputs with one name.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

output "load" {
  value = facility.lab.it_load_kw
}

output "load" { # ERROR: Duplicate output
  value = facility.lab.facility_load_kw
}
