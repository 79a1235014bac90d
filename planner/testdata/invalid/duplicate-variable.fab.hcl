# Two variables with one name.
variable "nodes" {
  default = 2
}

variable "nodes" { # ERROR: Duplicate variable
  default = 4
}
