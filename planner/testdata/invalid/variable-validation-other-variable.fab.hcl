# A validation rule sees only its own variable.
variable "min_nodes" {
  type    = number
  default = 2
}

variable "nodes" {
  type    = number
  default = 4

  validation {
    condition     = var.nodes >= var.min_nodes # ERROR: Invalid reference in variable validation
    error_message = "Too few nodes."
  }
}
