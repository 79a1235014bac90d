# tags is a map, not a list.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = facility.lab
  device_type = "cpu-server"
  tags        = ["a", "b"] # ERROR: Incorrect argument type
}
