# ignore_changes names an argument the kind does not have.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = facility.lab
  device_type = "cpu-server"

  lifecycle {
    ignore_changes = [tagz] # ERROR: Invalid ignore_changes entry (did you mean)
  }
}
