# A configuration written for a future fabrica.
fabrica {
  required_version = ">= 99.0" # ERROR: Unsupported fabrica version
}
