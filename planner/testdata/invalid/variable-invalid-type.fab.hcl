# A misspelled type constraint.
variable "site" {
  type    = strin # ERROR: Invalid type specification
  default = "lab"
}
