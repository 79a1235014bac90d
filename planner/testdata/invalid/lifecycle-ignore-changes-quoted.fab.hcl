# ignore_changes takes bare names, not strings.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = facility.lab
  device_type = "cpu-server"

  lifecycle {
    ignore_changes = ["tags"] # ERROR: Invalid ignore_changes entry (detail: without quotes)
  }
}
