# Replicating every 15 minutes cannot meet a 10-minute RPO.
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
  primary                      = facility.fra
  secondary                    = facility.ams
  mode                         = "warm_standby"
  rpo_minutes                  = 10 # ERROR: RPO not achievable
  rto_minutes                  = 240
  link_gbps                    = 100
  change_rate_tb_per_day       = 1
  replication_interval_minutes = 15
}
