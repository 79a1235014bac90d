# 100 TB/day of changes cannot cross a 1 Gb/s link.
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
  primary                = facility.fra
  secondary              = facility.ams
  mode                   = "warm_standby"
  rpo_minutes            = 60
  rto_minutes            = 240
  link_gbps              = 1 # ERROR: Replication link too slow
  change_rate_tb_per_day = 100
}
