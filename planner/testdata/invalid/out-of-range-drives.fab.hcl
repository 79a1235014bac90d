# A storage node needs at least one drive.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

storage "scratch" {
  facility        = facility.lab
  kind            = "ceph"
  nodes           = 3
  drives_per_node = 0 # ERROR: Value out of range
  drive_tb        = 3.84
}
