# Three replicas need three failure domains; there are two hosts.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

storage "scratch" {
  facility        = facility.lab
  kind            = "ceph"
  nodes           = 2
  drives_per_node = 4
  drive_tb        = 3.84

  protection { # ERROR: Not enough failure domains
    mode     = "replicated"
    replicas = 3
  }
}
