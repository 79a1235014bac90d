package fabrica.custom.rule

deny contains "always" if {
	input.flag
}
