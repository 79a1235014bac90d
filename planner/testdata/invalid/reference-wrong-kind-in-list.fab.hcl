# A cluster's hardware list holds servers, not facilities.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

training_cluster "main" {
  facility  = facility.lab
  scheduler = "local"
  hardware  = [facility.lab] # ERROR: Reference to the wrong kind of resource
}
