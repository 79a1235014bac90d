# Two local values that need each other.
locals {
  a = local.b + 1 # ERROR: Dependency cycle
  b = local.a + 1
}

output "a" {
  value = local.a
}
