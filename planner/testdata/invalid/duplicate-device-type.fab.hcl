# Two device_type blocks with one name.
device_type "gpu-box" {
  gpus         = 4
  max_power_kw = 6
}

device_type "gpu-box" { # ERROR: Duplicate device type
  gpus         = 8
  max_power_kw = 10
}
