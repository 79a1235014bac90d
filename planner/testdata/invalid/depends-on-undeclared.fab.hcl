# depends_on naming a resource that is not declared.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

hardware "node" {
  facility    = facility.lab
  device_type = "cpu-server"
  depends_on  = [storage.scratch] # ERROR: Reference to undeclared resource
}
