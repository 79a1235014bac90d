# facility refers to the facility itself, not to one of its attributes.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
  region      = "eu-central"
}

hardware "node" {
  facility    = facility.lab.region # ERROR: Invalid reference
  device_type = "cpu-server"
}
