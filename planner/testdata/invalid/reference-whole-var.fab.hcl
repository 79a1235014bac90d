# "var" alone names no variable.
variable "rack" {
  default = "r01"
}

facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = var # ERROR: Invalid reference
}
