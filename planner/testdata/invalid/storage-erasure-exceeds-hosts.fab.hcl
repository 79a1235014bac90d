# Erasure coding 8+3 needs 11 hosts; there are 10.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

storage "ceph" {
  facility        = facility.lab
  kind            = "ceph"
  nodes           = 10
  drives_per_node = 12
  drive_tb        = 15.36

  protection { # ERROR: Not enough failure domains (detail: 8+3)
    mode          = "erasure"
    data_chunks   = 8
    coding_chunks = 3
  }
}
