# count.index in a block without count.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = "r${count.index}" # ERROR: Reference to "count" in a block without count
}
