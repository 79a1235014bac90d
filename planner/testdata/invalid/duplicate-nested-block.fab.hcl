# Two protection blocks in one storage cluster.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

storage "scratch" {
  facility        = facility.lab
  kind            = "ceph"
  nodes           = 6
  drives_per_node = 4
  drive_tb        = 3.84

  protection {
    mode     = "replicated"
    replicas = 3
  }

  protection { # ERROR: Duplicate protection block
    mode          = "erasure"
    data_chunks   = 4
    coding_chunks = 2
  }
}
