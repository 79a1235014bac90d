# cooling_required is air or liquid.
device_type "gpu-box" {
  gpus             = 4
  max_power_kw     = 6
  cooling_required = "water" # ERROR: Invalid value for cooling_required
}
