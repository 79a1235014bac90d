# A misspelled argument in a nested block.
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

  protection {
    mode    = "replicated"
    replica = 3 # ERROR: Unsupported argument (did you mean)
  }
}
