# A capacity where a power belongs.
facility "lab" {
  it_power_kw = "5 TB" # ERROR: Wrong unit
  design_pue  = 1.25
}
