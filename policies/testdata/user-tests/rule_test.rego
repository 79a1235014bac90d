package fabrica.custom.rule_test

import data.fabrica.custom.rule

test_passes if {
	count(rule.deny) == 1 with input as {"flag": true}
}

test_fails if {
	count(rule.deny) == 1 with input as {"flag": false}
}

test_errors if {
	x := to_number("not a number")
	x == 1
}

test_uses_builtin_lib if {
	data.fabrica.lib.valid_date("2026-01-31")
}
