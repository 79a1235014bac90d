# rack_cooling takes a rack cooling technology.
facility "lab" {
  it_power_kw  = 50
  design_pue   = 1.25
  rack_cooling = "water" # ERROR: Invalid value for rack_cooling
}
