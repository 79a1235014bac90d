# A misspelled argument of a variable block.
variable "nodes" {
  type    = number
  defualt = 4 # ERROR: Unsupported argument (did you mean)
}
