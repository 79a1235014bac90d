# A device type figure from a variable that is not declared.
variable "gpus" {
  default = 4
}

device_type "gpu-box" {
  gpus         = var.gpu # ERROR: Reference to undeclared input variable (did you mean)
  max_power_kw = 6
}
