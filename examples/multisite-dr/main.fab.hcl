# Two facilities, Frankfurt and Amsterdam, each with a Ceph cluster; the Frankfurt data is
# replicated to Amsterdam by a warm-standby dr_site with a 60-minute RPO and 4-hour RTO.

facility "fra" {
  it_power_kw      = 800
  design_pue       = 1.2
  region           = "eu-central"
  jurisdiction     = "de"
  latitude         = 50.11
  longitude        = 8.68
  rack_cooling     = "dlc"
  power_redundancy = "2N"
  tier             = 3
}

facility "ams" {
  it_power_kw      = 600
  design_pue       = 1.3
  region           = "eu-west"
  jurisdiction     = "nl"
  latitude         = 52.37
  longitude        = 4.90
  rack_cooling     = "dlc"
  power_redundancy = "2N"
  tier             = 3
}

hardware "gpu" {
  for_each    = { fra = facility.fra, ams = facility.ams }
  facility    = each.value
  device_type = "dgx-b200"
  rack        = "${each.key}-r01"
}

storage "fra" {
  facility        = facility.fra
  kind            = "ceph"
  nodes           = 8
  drives_per_node = 12
  drive_tb        = 15.36
  protection {
    mode     = "replicated"
    replicas = 3
  }
  encryption_at_rest    = true
  encryption_in_transit = true
}

storage "ams" {
  facility        = facility.ams
  kind            = "ceph"
  nodes           = 8
  drives_per_node = 12
  drive_tb        = 15.36
  protection {
    mode     = "replicated"
    replicas = 3
  }
  encryption_at_rest    = true
  encryption_in_transit = true
}

dr_site "fra_to_ams" {
  primary                      = facility.fra
  secondary                    = facility.ams
  mode                         = "warm_standby"
  replicate                    = [storage.fra]
  rpo_minutes                  = 60
  rto_minutes                  = 240
  link_gbps                    = 100
  change_rate_tb_per_day       = 40
  replication_interval_minutes = 15
  encrypt_in_transit           = true

  drill {
    interval_days = 90
    last          = "2026-10-01"
  }
}

output "distance_km" {
  value = dr_site.fra_to_ams.distance_km
}

output "effective_rpo_minutes" {
  value = dr_site.fra_to_ams.effective_rpo_minutes
}
