# A provider alias is a literal string.
provider "slurm" {
  alias = 5 # ERROR: Invalid provider alias
}
