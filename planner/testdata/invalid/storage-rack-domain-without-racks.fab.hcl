# failure_domain = "rack" without the number of racks.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

storage "ceph" {
  facility        = facility.lab
  kind            = "ceph"
  nodes           = 6
  drives_per_node = 4
  drive_tb        = 3.84
  failure_domain  = "rack" # ERROR: Missing racks
}
