# A misspelled device type figure.
device_type "gpu-box" {
  gpus      = 4
  max_powr_kw = 6 # ERROR: Unsupported argument (did you mean)
}
