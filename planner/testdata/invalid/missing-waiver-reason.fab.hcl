# A policy waiver must say why.
fabrica {
  policy {
    waiver "energy.pue_max" { # ERROR: Missing required argument (detail: reason)
      address = "facility.lab"
      expires = "2027-03-31"
    }
  }
}

facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}
