package fabrica.custom.shape

deny contains {"message_typo": "oops"} if {
	true
}
