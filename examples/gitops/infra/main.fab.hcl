# The configuration the pipelines plan and apply; a pull request that breaks a policy
# is stopped at the gate, with the findings on the offending lines.

fabrica {
  required_version = ">= 0.1"

  policy {
    bundles = ["builtin"]
    params = {
      pue_warn = 1.25
    }

    waiver "energy.renewable.warn" {
      address = "facility.edge"
      reason  = "PPA for the edge site is signed; supply starts next quarter"
      expires = "2027-06-30"
    }
  }
}

facility "edge" {
  it_power_kw        = 60
  design_pue         = 1.2
  renewable_fraction = 0.2
}

hardware "node" {
  count       = 4
  facility    = facility.edge
  device_type = "cpu-server"
  rack        = "edge-r1"
}

fabric "lan" {
  facility  = facility.edge
  transport = "ethernet"
  endpoints = hardware.node
  isolation = "vlan"
}
