# A count written as a word.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  count       = "two" # ERROR: Invalid count argument
  facility    = facility.lab
  device_type = "cpu-server"
}
