# A reference to a variable that is not declared.
variable "nodes" {
  type    = number
  default = 2
}

facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  count       = var.node # ERROR: Reference to undeclared input variable (did you mean)
  facility    = facility.lab
  device_type = "cpu-server"
}
