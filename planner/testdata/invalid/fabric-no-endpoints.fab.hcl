# A fabric that connects nothing.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

fabric "lan" {
  facility  = facility.lab
  transport = "ethernet"
  endpoints = [] # ERROR: Fabric cannot be built as declared
}
