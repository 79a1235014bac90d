# A local value defined in terms of itself.
locals {
  racks = local.racks + 1 # ERROR: Dependency cycle
}
