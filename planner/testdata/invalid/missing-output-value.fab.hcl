# An output needs a value.
output "site" { # ERROR: Missing required argument (detail: value)
  description = "The site name."
}
