# A validation condition must be true or false.
variable "site" {
  type    = string
  default = "lab"

  validation {
    condition     = var.site # ERROR: Invalid validation condition
    error_message = "The site must not be empty."
  }
}
