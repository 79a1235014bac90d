# A replication link of 0 Gb/s.
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

dr_site "pair" {
  primary     = facility.fra
  secondary   = facility.ams
  rpo_minutes = 60
  rto_minutes = 240
  link_gbps   = 0 # ERROR: Invalid disaster-recovery figures
}
