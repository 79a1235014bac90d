# A misspelled setting.
fabrica {
  required_versoin = ">= 0.1" # ERROR: Unsupported argument (did you mean)
}
