# sensitive is true or false.
variable "token" {
  type      = string
  default   = "x"
  sensitive = "yes" # ERROR: Invalid sensitive flag
}
