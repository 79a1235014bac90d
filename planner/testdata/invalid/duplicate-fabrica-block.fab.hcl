# Only one settings block.
fabrica {
  required_version = ">= 0.1"
}

fabrica { # ERROR: Duplicate fabrica block
  required_version = ">= 0.2"
}
