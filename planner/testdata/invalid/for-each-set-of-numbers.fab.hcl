# for_each over a set needs strings as keys.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  for_each    = toset([1, 2]) # ERROR: Invalid for_each argument
  facility    = facility.lab
  device_type = "cpu-server"
}
