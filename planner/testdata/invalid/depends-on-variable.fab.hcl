# depends_on lists resources, not variables.
variable "site" {
  default = "lab"
}

facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
  depends_on  = [var.site] # ERROR: Invalid depends_on reference
}
