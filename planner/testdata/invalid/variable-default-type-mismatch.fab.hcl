# The default does not match the variable's type.
variable "nodes" {
  type    = number
  default = "many" # ERROR: Invalid default value for variable
}
