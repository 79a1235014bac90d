# One local value declared in two locals blocks.
locals {
  rack = "r01"
}

locals {
  rack = "r02" # ERROR: Duplicate local value
}
