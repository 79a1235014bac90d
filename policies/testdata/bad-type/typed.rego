package fabrica.custom.typed

deny contains msg if {
	x := 1 + "one"
	msg := sprintf("%v", [x])
}
