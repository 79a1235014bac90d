# primary must be a facility.
facility "fra" {
  it_power_kw = 800
  design_pue  = 1.25
  latitude    = 50.11
  longitude   = 8.68
}

facility "ams" {
  it_power_kw = 600
  design_pue  = 1.3
  latitude    = 52.37
  longitude   = 4.90
}

storage "fra" {
  facility        = facility.fra
  kind            = "ceph"
  nodes           = 3
  drives_per_node = 4
  drive_tb        = 3.84
}

dr_site "pair" {
  primary     = storage.fra # ERROR: Reference to the wrong kind of resource
  secondary   = facility.ams
  rpo_minutes = 60
  rto_minutes = 240
}
