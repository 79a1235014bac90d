package fabrica.security.secrets_test

import data.fabrica.security.secrets

job(env, command) := {"resource_changes": [{"address": "training_job.j", "kind": "training_job", "action": "create", "after": {"env": env, "command": command}}]}

test_ordinary_env_passes if {
	doc := job(
		{
			"NCCL_DEBUG": "WARN",
			"TOKENIZERS_PARALLELISM": "false",
			"HF_TOKEN": "${HF_TOKEN}",
			"WANDB_API_KEY": "vault://ml/wandb",
			"CKPT_DIR": "/ceph/checkpoints/llm70b/run-2026-11-29/shard",
			"USE_TOKEN": "1",
		},
		["python3", "-m", "megatron.train", "--config", "llm70b.yaml"],
	)
	count(secrets.deny) == 0 with input as doc
}

test_aws_key_denied_without_echoing_it if {
	ds := secrets.deny with input as job({"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"}, [])
	count(ds) == 1
	some d in ds
	d.attribute == "env"
	contains(d.msg, "AWS access key id")
	not contains(d.msg, "AKIAIOSFODNN7EXAMPLE")
}

test_secret_named_literal_denied if {
	ds := secrets.deny with input as job({"DB_PASSWORD": "hunter2hunter2"}, [])
	some d in ds
	contains(d.msg, "name that suggests a secret")
}

test_random_looking_value_denied if {
	ds := secrets.deny with input as job({"SOME_SETTING": "x9Fq2LmZ7pR4tY8wK3nB6vC1dH5jG0sA"}, [])
	some d in ds
	contains(d.msg, "random-looking string of 32 characters")
}

test_password_on_command_line_denied if {
	ds := secrets.deny with input as job({}, ["train.py", "--db-password=hunter2"])
	some d in ds
	d.attribute == "command"
	contains(d.msg, "command argument 2")
}

test_pattern_can_be_turned_off if {
	count(secrets.deny) == 0 with input as job({"KEY_ID": "AKIAIOSFODNN7EXAMPLE"}, [])
		with data.params.secret_patterns["an AWS access key id"] as ""
}
