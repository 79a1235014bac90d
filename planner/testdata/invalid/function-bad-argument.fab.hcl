# floor takes a number.
facility "lab" {
  it_power_kw = floor("fifty") # ERROR: Invalid function argument
  design_pue  = 1.25
}
