# The cluster plans about 13 TB usable, not the 100 TB asked for.
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
  min_usable_tb   = 100 # ERROR: Storage too small
}
