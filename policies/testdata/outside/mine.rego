package mypolicies

deny contains "never run" if {
	true
}
