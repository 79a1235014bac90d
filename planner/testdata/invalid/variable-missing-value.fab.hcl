# A variable without a default and without a value.
variable "site" { # ERROR: No value for required variable
  type = string
}

facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
  region      = var.site
}
