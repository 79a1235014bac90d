# required_version is a version constraint.
fabrica {
  required_version = "latest" # ERROR: Invalid required_version
}
