# A misspelled nested block.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

storage "scratch" {
  facility        = facility.lab
  kind            = "ceph"
  nodes           = 3
  drives_per_node = 4
  drive_tb        = 3.84

  protecton { # ERROR: Unsupported block type (did you mean)
    mode     = "replicated"
    replicas = 3
  }
}
