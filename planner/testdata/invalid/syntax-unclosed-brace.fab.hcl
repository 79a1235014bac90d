# A block whose closing brace is missing.
facility "lab" { # ERROR: Unclosed configuration block
  it_power_kw = 50
  design_pue  = 1.25
