package fabrica.custom.broken

deny contains msg if {
	msg := "unterminated
}
