# The default fails the variable's own validation rule.
variable "nodes" {
  type    = number
  default = 1

  validation {
    condition     = var.nodes >= 2 # ERROR: Invalid value for variable (detail: at least two nodes)
    error_message = "The cluster needs at least two nodes."
  }
}
