# METADATA
# title: Checkpoint interval bounded
# description: |
#   A training job's checkpoint.interval_minutes must not exceed
#   params.checkpoint_max_interval_minutes (default 60): at scale a node fails every few
#   hours, and each failure loses the work since the last checkpoint on every GPU. A job
#   on at least params.checkpoint_required_min_gpus GPUs (default 64) without a
#   checkpoint interval warns.
package fabrica.reliability.checkpoint

import data.fabrica.lib

interval(rc) := lib.num(lib.get(rc.after, "checkpoint", {}), "interval_minutes", null)

gpus(rc) := rc.after.world_size if {
	is_number(rc.after.world_size)
} else := lib.num(rc.after, "nodes", 1) * lib.num(rc.after, "gpus_per_node", 0)

deny contains lib.finding(msg, rc.address, "checkpoint.interval_minutes") if {
	some rc in lib.changes.training_job
	iv := interval(rc)
	is_number(iv)
	iv > data.params.checkpoint_max_interval_minutes
	msg := sprintf(
		"checkpoint.interval_minutes = %v is longer than %v: a failure loses up to that much work on all %v GPUs of the job. Checkpoint more often.",
		[iv, data.params.checkpoint_max_interval_minutes, gpus(rc)],
	)
}

warn contains lib.finding(msg, rc.address, "checkpoint") if {
	some rc in lib.changes.training_job
	not is_number(interval(rc))
	g := gpus(rc)
	g >= data.params.checkpoint_required_min_gpus
	msg := sprintf(
		"job runs on %v GPUs without a checkpoint interval, so a single failure restarts it from the beginning. Add checkpoint { dir, interval_minutes }.",
		[g],
	)
}
