# Nodes come whole.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

storage "scratch" {
  facility        = facility.lab
  kind            = "ceph"
  nodes           = 3.5 # ERROR: Invalid value for nodes
  drives_per_node = 4
  drive_tb        = 3.84
}
