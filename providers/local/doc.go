// Package local is the embedded scheduler provider for training clusters whose scheduler
// is "local": it runs each training_job as processes on this machine, detached from
// fabrica, so a job outlives the apply that launched it and a later refresh finds it.
// It implements the kind training_job only; the launch itself (layout, environment
// contract, summary) is package launch, shared with the other schedulers.
//
// # Configuration
//
//	provider "local" {
//	  kill_grace = "10s" # from SIGTERM to SIGKILL when a job's processes are stopped (default 10s)
//	}
//
// # Jobs on disk
//
// Each job has an id "<name>-<6 hex digits>" (name from its address: training_job.logreg
// gives logreg-3fa2c1) and a directory WORKDIR/.fabrica/jobs/<id>/ holding:
//
//	spec.json       the launch (launch.Spec with absolute workdir and checkpoint dir,
//	                rendezvous 127.0.0.1:port, run id = job id), address, kill grace, and
//	                the job's attributes without its status
//	status.json     {status, exit_code, failing_rank, restarts, started_at, finished_at,
//	                pids, supervisor_pid, message}, replaced atomically (rename) on every change
//	supervisor.pid  the supervisor's pid
//	supervisor.log  the supervisor's own output
//	rank-N.log      stdout and stderr of global rank N; attempts are appended, each restart
//	                after a "----- fabrica: restart K of M (...) -----" line
//	checkpoints/    FABRICA_CHECKPOINT_DIR when checkpoint.dir is not set
//	released        present once fabrica deleted the job
//
// Jobs lists them (for `fabrica jobs`) and LogPath names a rank's log (for `fabrica
// logs`). Deleting a job never removes its directory: its logs stay until the user
// removes them.
//
// # The supervisor
//
// A launch starts one supervisor per job: this executable run as `fabrica provider
// supervise JOBDIR` (SupervisorCommand; the command calls Supervise), in a new session
// (setsid) with stdin from /dev/null and output to supervisor.log, so neither fabrica's
// exit nor a Ctrl-C in its terminal reaches it. The supervisor resolves the program
// (a name with a slash is a path relative to the job's workdir; a bare name is looked up
// in the workdir, then on $PATH, the env's PATH if it sets one), then starts nodes ×
// processes_per_node ranks, all on this machine (nodes > 1 are emulated: GROUP_RANK is
// the node index), each with the torchrun contract of launch.Spec.RankEnv after the
// supervisor's environment (and PYTHONUNBUFFERED=1 unless env sets it), in the job's
// workdir (WORKDIR unless workdir is set; relative paths are from WORKDIR), each leading
// its own process group so that a signal to the group reaches everything the rank
// started.
//
// When a rank exits non-zero (or is killed), the supervisor stops the others (SIGTERM
// to each group, SIGKILL to those left after the kill grace) and, while restarts <
// max_restarts, starts the whole group again with TORCHELASTIC_RESTART_COUNT one higher;
// otherwise the job has failed with that rank's exit code (128+signal when killed) as
// exit_code and the rank as failing_rank. A command that is not found fails at once
// with exit code 127 ("command not found: trainer (looked in DIR and $PATH)"), one that
// is not executable with 126; neither is restarted. When every rank has exited 0 the job
// has succeeded (leftover processes of the ranks' groups are stopped). SIGTERM or SIGINT
// to the supervisor cancels the job: the ranks are stopped and the status is cancelled.
//
// # Plan
//
// A new job is planned with status "pending" and launch (the launch.Spec.Summary the
// reviewer checks: layout, world size, rendezvous with its deterministic port, max
// restarts, env with secret-looking values redacted, workdir); job_id and log_dir are
// unknown until apply. Warnings point at an image (ignored here), a workdir or a program
// not found on this machine. A job whose arguments are unchanged keeps its attributes,
// whatever its status except failed or cancelled: a plan after an apply is empty and a
// succeeded job is left alone. A job cannot change in place, so a changed argument is a
// replacement (RequiresReplace names it), except wait and memory_per_gpu_gb, which change
// in place; a failed or cancelled job is replaced (RequiresReplace "status", planned
// status "pending"). The replacement's planned status_reason says why: "replaces job X,
// which failed: rank 1 exited with code 3 (see fabrica logs ADDR --rank 1)".
//
// # Apply
//
// Changes run concurrently. A create first adopts a job an earlier apply launched for
// the same address with the same arguments (not deleted, not failed or cancelled, not the
// one being replaced): that apply's answer was lost. Otherwise it picks the rendezvous
// port (launch.DefaultPort of the address, or the next free one: it is checked free on
// 127.0.0.1), writes spec.json and status.json, and starts the supervisor. Then it waits
// as wait says: none returns at once (status pending); running until the ranks started;
// completed until the job ended, sending the new lines of rank 0's log about every second
// (EventLog) and each status change (EventProgress). A job that ends failed or cancelled
// while waited for is a Failed event that still carries the job's id and attributes.
// Stop or the end of ctx during a wait never touches the job: the change is Done with
// the status as it is and the message "detached: the job keeps running; fabrica logs ADDR
// --follow to watch it". An update records wait (the only arguments that change in
// place) and waits as it says. A delete sends SIGTERM to the supervisor, after checking
// from /proc/PID/cmdline that the pid still is this job's supervisor (never by name),
// and waits until the status is final (the supervisor writes cancelled once the ranks
// are gone; one still running after the kill grace and 5 s more is killed); ranks a dead
// supervisor left are killed by pid after checking that they lead their group and carry
// the job's FABRICA_JOB_ID. Deleting a finished job only marks it released.
//
// # Read
//
// Read and Import answer from the job directory: Gone when it is missing or released.
// A job that has not finished and whose supervisor is not running (checked as above)
// is recorded failed: "the supervisor (pid N) died before the job finished"; ranks it
// left running are killed when the job is deleted or replaced. Attributes
// are the job's arguments and job_id, log_dir, launch, status, restarts, and when known
// status_reason, exit_code, failing_rank, started_at and finished_at (RFC 3339); Read,
// Import and Apply build them the same way, so an unchanged job reads Unchanged.
//
// The provider needs a Unix system; pids are verified through /proc (Linux), elsewhere
// only their liveness is checked.
package local
