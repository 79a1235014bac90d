# A size where a bandwidth belongs.
facility "fra" {
  it_power_kw = 50
  design_pue  = 1.25
}

facility "ams" {
  it_power_kw = 50
  design_pue  = 1.25
}

dr_site "pair" {
  primary     = facility.fra
  secondary   = facility.ams
  rpo_minutes = 60
  rto_minutes = 240
  link_gbps   = "10 TB" # ERROR: Wrong unit
}
