# A DR site must pair two different facilities.
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
  secondary   = facility.fra # ERROR: DR secondary is the primary
  rpo_minutes = 60
  rto_minutes = 240
}
