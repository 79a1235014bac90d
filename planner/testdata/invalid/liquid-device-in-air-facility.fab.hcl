# A GB200 NVL72 rack is liquid-cooled only; the facility's racks are air-cooled.
facility "lab" {
  it_power_kw  = 500
  design_pue   = 1.25
  rack_cooling = "air"
}

hardware "nvl72" {
  facility    = facility.lab
  device_type = "gb200-nvl72" # ERROR: Device needs liquid cooling
}
