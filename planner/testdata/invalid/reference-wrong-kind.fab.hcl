# facility must refer to a facility, not to a server.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "x" {
  facility    = facility.lab
  device_type = "cpu-server"
}

storage "scratch" {
  facility        = hardware.x # ERROR: Reference to the wrong kind of resource
  kind            = "ceph"
  nodes           = 3
  drives_per_node = 4
  drive_tb        = 3.84
}
