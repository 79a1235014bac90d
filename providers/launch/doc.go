// Package launch is the one logical launch every scheduler provider renders (local,
// slurm, ...): how many nodes and processes per node, the command, the rendezvous
// endpoint, the run id, how often the whole group may restart, and the environment each
// process gets.
//
// SpecFromAttrs reads a training_job's attributes (its arguments and derived figures, as
// the planner sends them, or as they are kept in state) into a Spec and checks what a
// launch needs; its diagnostics name the attribute at fault. The scheduler provider then
// fills in what only it knows: the job and run ids, the rendezvous address and port
// (DefaultPort gives a deterministic one per job), and absolute directories.
//
// RankEnv renders the torchrun environment contract for one process (domain.md §4):
// MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK,
// GROUP_WORLD_SIZE, ROLE_RANK, ROLE_NAME, ROLE_WORLD_SIZE, TORCHELASTIC_RESTART_COUNT,
// TORCHELASTIC_MAX_RESTARTS, TORCHELASTIC_RUN_ID, plus FABRICA_JOB_ID, FABRICA_RUN_ID and
// FABRICA_CHECKPOINT_DIR, after the user's env (which may not set any of them). Summary
// is the launch as a plan shows it to a reviewer, with secret-looking env values
// redacted.
//
// What every scheduler provider does alike with its jobs is here too, so that a job reads
// the same whatever runs it: the job directory layout (JobDir, NewJobDir, RankLog,
// Release), the statuses and computed attributes every provider reports (StatusPending,
// AttrJobID, ...), the plan rules (JobPlan), the change events (ApplyConcurrently,
// Failed) and following rank 0's log while apply waits (Tailer).
//
// The package knows nothing of processes or schedulers; it leaves starting, watching and
// cancelling to the providers.
package launch
