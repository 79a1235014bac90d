# Device types are read before local values exist.
locals {
  gpus = 4
}

device_type "gpu-box" {
  gpus         = local.gpus # ERROR: Invalid reference in device type
  max_power_kw = 6
}
