# A provider reference is NAME or NAME.ALIAS.
provider "slurm" {
  alias = "east"
}

facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
  provider    = slurm.east.gpu # ERROR: Invalid provider reference
}
