package fabrica.custom.conflict

deny := "one" if {
	some rc in input.resource_changes
	rc.kind == "storage"
}

deny := "two" if {
	some rc in input.resource_changes
	rc.kind == "storage"
}
