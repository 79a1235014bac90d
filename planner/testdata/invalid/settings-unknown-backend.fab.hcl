# A state backend fabrica does not have.
fabrica {
  backend "s3" { # ERROR: Unknown backend type
    bucket = "state"
  }
}
