// Package slurm is the scheduler provider for training clusters whose scheduler is
// "slurm": it submits each training_job to Slurm with sbatch, reads its state with
// squeue, and cancels it with scancel. It implements the kind training_job only; the
// launch itself (layout, environment contract, summary) is package launch, shared with
// the other schedulers, and the attributes, plan rules and wait modes are the local
// provider's.
//
// # Configuration
//
//	provider "slurm" {
//	  partition       = "gpu"      # for jobs whose training_cluster sets no partition (default: Slurm's default)
//	  account         = "ml"       # default: the user's default account
//	  bin_dir         = "/usr/bin" # sbatch, squeue, scontrol, scancel (default: from PATH)
//	  slurm_conf      = "/etc/slurm/slurm.conf" # SLURM_CONF for the commands (default: theirs)
//	  time_limit      = "24h"      # every job's --time (default: the partition's)
//	  poll_interval   = "500ms"    # how often a waiting apply polls squeue
//	  command_timeout = "30s"      # one Slurm command longer than this: slurmctld is not responding
//	}
//
// # Reading state: squeue, not sacct or slurmrestd
//
// The provider reads job state with `scontrol ping` and `squeue --states=all --jobs
// ID,ID,...` (one call for a whole refresh, whatever the number of jobs), not with sacct
// nor slurmrestd. sacct needs slurmdbd and a MariaDB (about a minute more to set up in CI,
// and often not available to users), and slurmrestd needs JWT or a local socket and its
// OpenAPI version differs between Slurm releases, while squeue is on every submit host
// and answers for finished jobs as long as slurmctld keeps them (MinJobAge, 300 s by
// default; the test cluster sets 3600). The provider does not depend on that window:
//
//   - the batch script records the outcome itself in the job directory ("result": the
//     failing rank and its exit code), and
//   - the provider records a job's final status in status.json the first time it sees
//     it, so a finished job is read from disk, without asking Slurm, ever after.
//
// A job Slurm has forgotten before the provider saw it end is reported from its result
// file, or failed ("Slurm no longer knows job N") when it left none (cancelled, killed).
// `scontrol ping` goes first (before a refresh, and at most every 2 s before submissions,
// cancellations and status polls) because it fails at once when slurmctld is down, where
// squeue and sbatch retry for 10 to 20 s. Submissions and cancellations run at most 8 at
// a time (slurmctld serves them one by one anyway); a connection slurmctld drops is tried
// again. Every command runs under command_timeout, so
// nothing hangs: a controller that does not answer is the error "slurmctld is not
// responding: ..." quoting the command. squeue gives no failing rank and, in 22.05, no
// plain exit code (the raw wait status only); both come from the batch script.
//
// # Jobs on disk
//
// Each job has an id "<name>-<6 hex digits>" (name from its address; it is also the
// Slurm job name, the run id and the resource id) and a directory
// WORKDIR/.fabrica/jobs/<id>/, the same layout as the local provider's (the directory
// must be on a file system the compute nodes share, as for any sbatch --output):
//
//	slurm-job.json  address, launch.Spec (absolute dirs, run id, Slurm id = FABRICA_JOB_ID,
//	                MASTER_PORT), the launch summary and the job's arguments
//	job.sbatch      the batch script; its header says how it was submitted
//	rank.sh         the per-rank wrapper srun starts
//	batch.log       the batch script's output: srun's own messages, restarts
//	rank-N.log      stdout and stderr of global rank N (srun --output rank-%t.log,
//	                appended); each restart after a "----- fabrica: restart K of M -----" line
//	exits-K         "RANK CODE" per rank that ended in attempt K, in order
//	restarts        "K RANK CODE" per restart
//	result          "succeeded" or "failed RANK CODE", the batch script's last word
//	status.json     the final status, once the provider has seen it
//	checkpoints/    FABRICA_CHECKPOINT_DIR when checkpoint.dir is not set
//	released        present once fabrica deleted the job
//
// # The batch script
//
// sbatch gets --job-name=<id>, --nodes, --ntasks-per-node = processes_per_node (one
// Slurm task per rank), --gpus-per-node only when gpus_per_node > 0, --partition (the
// job's training_cluster partition, else the provider's), --account and --time when
// configured, --chdir (the job's workdir), --output batch.log,
// --no-requeue and --comment "fabrica ADDRESS". The script exports FABRICA_JOB_ID (the
// Slurm id), MASTER_PORT = 10000 + job id % 20000 (so jobs on the same first node do not
// collide, below the ephemeral ports) and MASTER_ADDR = the first host of
// SLURM_JOB_NODELIST (`scontrol show hostnames`), where Slurm runs the batch script and
// rank 0: its name when it resolves, else (emulated nodes, which share one host) the
// address srun gives the tasks as its own, SLURM_LAUNCH_NODE_IPADDR, which every node
// reaches by construction; no RPC to slurmctld either way. Then it runs
// `srun --kill-on-bad-exit=1 rank.sh` and rank.sh
// gives each task the environment of launch.Spec.RankEnv: RANK from SLURM_PROCID,
// LOCAL_RANK from SLURM_LOCALID, GROUP_RANK from SLURM_NODEID, WORLD_SIZE from
// SLURM_NTASKS, GROUP_WORLD_SIZE from SLURM_NNODES, and the rest as rendered (a task
// laid out otherwise than the job says exits 2 with a message).
//
// Restarts: when a rank exits non-zero, srun ends the step and the script starts the
// whole group again (TORCHELASTIC_RESTART_COUNT one higher), up to max_restarts, in the
// same allocation; exit codes 126 and 127 (command not found) are not restarted. This is
// the launch contract's rule, the same as the local provider's, and keeps the restart
// count, the logs and the failing rank in one place. Slurm's own requeue is off: it would
// send the job back to the queue, run the script again from the start with the restart
// count reset, and make a job go from running back to pending; a job Slurm ends
// (TIMEOUT, NODE_FAIL, PREEMPTED) is final and is replaced by the next apply.
//
// # Status
//
// Slurm's states map onto the status model: PENDING, CONFIGURING, REQUEUED and the hold
// states are pending (status_reason "waiting for Slurm: Resources"); RUNNING, COMPLETING,
// SUSPENDED, STAGE_OUT and SIGNALING are running; COMPLETED is succeeded; FAILED is
// failed with the failing rank and its exit code from the result file ("rank 1 exited
// with code 3 (see fabrica logs ADDR --rank 1)"); CANCELLED and REVOKED are cancelled;
// TIMEOUT, DEADLINE, NODE_FAIL, BOOT_FAIL, PREEMPTED, OUT_OF_MEMORY and SPECIAL_EXIT are
// failed with Slurm's reason and the exit code of its wait status (128 + signal when
// killed). An unknown state is pending.
//
// # Plan, apply, read
//
// Plan is the local provider's: a new job is pending with its launch (layout, world size,
// rendezvous rule, restarts, env with secrets redacted, partition, time limit); an
// unchanged job keeps its attributes; a changed argument replaces it (but wait and
// memory_per_gpu_gb); a failed or cancelled job is replaced, with the reason. Apply
// creates concurrently: it pings slurmctld, writes the job directory, submits with
// `sbatch --parsable`, and waits as wait says (none: returns pending at once; running;
// completed, with the new lines of rank 0's log about every second). A rejected job
// (more nodes than the partition has, an unknown partition or account) is a Failed event
// quoting sbatch ("sbatch rejected the job: Batch job submission failed: Node count
// specification invalid"). A cluster with EnforcePartLimits=NO queues such a job instead;
// a wait then fails at once on a pending reason that needs someone to act
// (PartitionNodeLimit, PartitionTimeLimit, InvalidAccount, ...) rather than hang, and
// leaves the job queued and in state. The status polls of all waiting changes are
// coalesced: one squeue per poll_interval for all of them (and a ping at most every 2 s;
// a squeue is cut off after 5 s, so an outage shows soon). While slurmctld does not
// answer, a wait keeps trying for a minute, then fails with the job's id and attributes
// so that state keeps it. Stop or the end of the context detaches a wait without
// cancelling the job. A create adopts the job an earlier, interrupted apply submitted
// for the same address and arguments (found by name when its Slurm id was never
// recorded). Delete runs scancel and waits until Slurm reports the job ended; a finished
// job is only marked deleted. Read answers finished jobs from disk and the rest with one
// query; Import takes a job id.
//
// Commands run with this process's environment minus SLURM_* (but SLURM_CONF),
// SBATCH_*, SQUEUE_* and the like, so the plan's options are what Slurm gets; sbatch
// exports that environment to the job (its default --export=ALL).
package slurm
