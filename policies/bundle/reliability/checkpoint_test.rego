package fabrica.reliability.checkpoint_test

import data.fabrica.reliability.checkpoint

job(after) := {"resource_changes": [{"address": "training_job.j", "kind": "training_job", "action": "create", "after": after}]}

test_frequent_checkpoints_pass if {
	doc := job({"nodes": 64, "gpus_per_node": 8, "checkpoint": {"dir": "/ckpt", "interval_minutes": 30}})
	count(checkpoint.deny) == 0 with input as doc
	count(checkpoint.warn) == 0 with input as doc
}

test_small_job_without_checkpoint_passes if {
	count(checkpoint.warn) == 0 with input as job({"nodes": 1, "gpus_per_node": 8})
}

test_long_interval_denied if {
	ds := checkpoint.deny with input as job({"world_size": 512, "checkpoint": {"interval_minutes": 240}})
	some d in ds
	d.attribute == "checkpoint.interval_minutes"
	contains(d.msg, "all 512 GPUs")
}

test_large_job_without_checkpoint_warns if {
	ws := checkpoint.warn with input as job({"nodes": 16, "gpus_per_node": 8, "checkpoint": null})
	some w in ws
	contains(w.msg, "128 GPUs")
}
