# nearfull_ratio above what Ceph allows.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

storage "ceph" {
  facility        = facility.lab
  kind            = "ceph"
  nodes           = 3
  drives_per_node = 4
  drive_tb        = 3.84
  nearfull_ratio  = 0.99 # ERROR: Value out of range
}
