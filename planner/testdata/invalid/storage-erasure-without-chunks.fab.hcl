# Erasure coding needs both data_chunks and coding_chunks.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

storage "ceph" {
  facility        = facility.lab
  kind            = "ceph"
  nodes           = 8
  drives_per_node = 4
  drive_tb        = 3.84

  protection { # ERROR: Incomplete erasure coding
    mode        = "erasure"
    data_chunks = 4
  }
}
