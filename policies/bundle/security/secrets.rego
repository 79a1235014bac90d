# METADATA
# title: No secret-looking literals in jobs
# description: |
#   A training job's env values and command arguments must not hold credentials: they
#   end up in the plan, the state and the scheduler's job record. A value is reported
#   when it matches one of params.secret_patterns (AWS access key ids, password or token
#   assignments, private keys, GitHub, Hugging Face and Slack tokens; set a pattern to
#   "" to turn it off), when its env name looks like a secret
#   (params.secret_env_key_pattern) and it holds a literal of 8 or more characters that
#   is not a reference (params.secret_reference_pattern, e.g. ${VAR} or vault://...), or
#   when it is a long random-looking string (at least params.secret_min_length
#   characters of letters, digits and + / = _ -, with upper and lower case and digits).
#   Messages never repeat the value.
package fabrica.security.secrets

import data.fabrica.lib

deny contains lib.finding(msg, rc.address, "env") if {
	some rc in lib.changes.training_job
	some key, value in lib.get(rc.after, "env", {})
	is_string(value)
	why := reasons(key, value)
	count(why) > 0
	msg := sprintf(
		"env %s holds %s. Keep secrets out of configuration: reference them from the scheduler's secret store (e.g. ${VAR} or vault://path).",
		[key, why[0]],
	)
}

deny contains lib.finding(msg, rc.address, "command") if {
	some rc in lib.changes.training_job
	some i, arg in lib.get(rc.after, "command", [])
	is_string(arg)
	why := pattern_reasons(arg)
	count(why) > 0
	msg := sprintf(
		"command argument %d holds %s. Pass secrets through the environment from the scheduler's secret store, not on the command line.",
		[i + 1, why[0]],
	)
}

# reasons lists why a value looks like a secret, most specific first.
reasons(key, value) := array.concat(array.concat(pattern_reasons(value), name_reasons(key, value)), random_reasons(value))

pattern_reasons(value) := [sprintf("what looks like %s", [what]) |
	some what, pattern in data.params.secret_patterns
	pattern != ""
	regex.match(pattern, value)
]

name_reasons(key, value) := ["a literal value under a name that suggests a secret" |
	regex.match(data.params.secret_env_key_pattern, key)
	count(value) >= 8
	not regex.match(data.params.secret_reference_pattern, value)
]

random_reasons(value) := [sprintf("a random-looking string of %d characters, likely a credential", [count(value)]) |
	count(value) >= data.params.secret_min_length
	regex.match(`^[A-Za-z0-9+/=_-]+$`, value)
	not startswith(value, "/")
	regex.match(`[0-9]`, value)
	regex.match(`[a-z]`, value)
	regex.match(`[A-Z]`, value)
]
