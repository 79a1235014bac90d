# A device type that is not built in needs max_power_kw.
device_type "gpu-box" { # ERROR: Missing required argument (detail: max_power_kw)
  gpus          = 4
  gpu_memory_gb = 80
}
