package slurm

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Rendezvous ports: a job's MASTER_PORT is PortBase + its Slurm job id % PortRange, so
// jobs sharing a first node (consecutive ids) never collide; the range stays below
// Linux's ephemeral ports (32768 and up).
const (
	PortBase  = 10000
	PortRange = 20000
)

// MasterPort is the rendezvous port of the Slurm job slurmID.
func MasterPort(slurmID string) int {
	n, _ := strconv.ParseUint(slurmID, 10, 64)
	return PortBase + int(n%PortRange)
}

// shq quotes s for bash as one word.
func shq(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c == '/' || c == '.' || c == '-' || c == '_' || c == ':' || c == '=' || c == ',' || c == '+' ||
			c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shqAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shq(w)
	}
	return strings.Join(q, " ")
}

// slurmTime formats a time limit for sbatch --time: D-HH:MM:SS, rounded up to seconds.
func slurmTime(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return fmt.Sprintf("%d-%02d:%02d:%02d", s/86400, s/3600%24, s/60%60, s%60)
}

// partition is where a job is submitted: its cluster's partition, else the provider's.
func partition(cfg config, s launch.Spec) string {
	if s.Partition != "" {
		return s.Partition
	}
	return cfg.Partition
}

// sbatchOptions are the options the job is submitted with: its layout (one task per
// rank), GPUs when it asks for some, partition, account and time limit when configured,
// its working directory and the batch log. Requeueing is off: restarts are the batch
// script's (up to max_restarts), and a job Slurm ends is final.
func sbatchOptions(cfg config, j *jobFile) []string {
	s := j.Spec
	opts := []string{
		"--job-name=" + j.ID,
		"--nodes=" + strconv.Itoa(s.Nodes),
		"--ntasks-per-node=" + strconv.Itoa(s.ProcsPerNode),
	}
	if s.GPUsPerNode > 0 {
		opts = append(opts, "--gpus-per-node="+strconv.Itoa(s.GPUsPerNode))
	}
	if p := partition(cfg, s); p != "" {
		opts = append(opts, "--partition="+p)
	}
	if cfg.Account != "" {
		opts = append(opts, "--account="+cfg.Account)
	}
	if cfg.TimeLimit > 0 {
		opts = append(opts, "--time="+slurmTime(cfg.TimeLimit))
	}
	return append(opts,
		"--chdir="+s.WorkDir,
		"--output="+filepath.Join(j.dir, batchLog),
		"--open-mode=append",
		"--no-requeue",
		"--comment=fabrica "+j.Address,
	)
}

// batchScript renders job.sbatch: it sets the rendezvous (MASTER_ADDR: the allocation's
// first node, where rank 0 runs, by name when it resolves, else by the address srun
// reports to the tasks, SLURM_LAUNCH_NODE_IPADDR; MASTER_PORT from the job id), then
// runs the ranks as one srun step, restarting the whole group while restarts remain.
// It records each rank's exit (rank.sh writes "RANK CODE TIME" to exits-ATTEMPT; the
// failing rank is the one that ended first with a non-zero code, since its peers often
// fail right after it), each restart (restarts) and the outcome (result), and exits with
// the failing rank's code.
func batchScript(j *jobFile, opts []string) string {
	s := j.Spec
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("#!/bin/bash")
	w("# fabrica job %s for %s: %s (world size %d), up to %d restarts.", j.ID, oneLine(j.Address), launch.Layout(s.Nodes, s.ProcsPerNode), s.WorldSize(), s.MaxRestarts)
	w("# Submitted with: sbatch --parsable %s %s", oneLine(shqAll(opts)), scriptFile)
	w("# Every attempt is one srun step of one task per rank; rank.sh gives each task the")
	w("# torchrun environment contract. When a rank fails, srun ends the step")
	w("# (--kill-on-bad-exit) and the whole group restarts while restarts remain.")
	w("set -u")
	w("dir=%s", shq(j.dir))
	w("max_restarts=%d", s.MaxRestarts)
	w(`export FABRICA_JOB_ID="$SLURM_JOB_ID"`)
	w(`export MASTER_PORT=$((%d + SLURM_JOB_ID %% %d))`, PortBase, PortRange)
	w("# Rank 0 runs on the first node, where this script runs too: its name when it")
	w("# resolves, else (emulated nodes) the address srun gives the tasks as its own.")
	w(`head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)`)
	w(`if getent hosts "$head" >/dev/null 2>&1; then export MASTER_ADDR="$head"; else unset MASTER_ADDR; fi`)
	w("mkdir -p %s", shq(s.CheckpointDir))
	w(`echo "fabrica: job $SLURM_JOB_ID on $SLURM_JOB_NODELIST, rendezvous ${MASTER_ADDR:-$head}:$MASTER_PORT"`)
	w("attempt=0")
	w("while :; do")
	w("  export TORCHELASTIC_RESTART_COUNT=$attempt")
	w(`  rm -f "$dir/exits-$attempt"`)
	w(`  srun --kill-on-bad-exit=1 --open-mode=append --output="$dir/rank-%%t.log" "$dir/%s"`, rankScript)
	w("  rc=$?")
	w(`  if [ "$rc" -eq 0 ]; then echo succeeded > "$dir/%s"; exit 0; fi`, resultFile)
	w("  rank= code=")
	w(`  read -r rank code _ < <(awk '$2 != 0' "$dir/exits-$attempt" 2>/dev/null | sort -k3,3n | head -n 1) || true`)
	w(`  if [ -z "$rank" ]; then rank=- code=$rc; fi  # srun failed before any rank did`)
	w(`  if [ "$attempt" -ge "$max_restarts" ] || [ "$code" -eq 126 ] || [ "$code" -eq 127 ]; then`)
	w(`    echo "failed $rank $code" > "$dir/%s"`, resultFile)
	w(`    exit "$code"`)
	w("  fi")
	w("  attempt=$((attempt + 1))")
	w(`  echo "$attempt $rank $code" >> "$dir/%s"`, restartsFile)
	w(`  echo "fabrica: rank $rank exited with code $code; restart $attempt of $max_restarts"`)
	w(`  for f in "$dir"/rank-*.log; do`)
	w(`    echo "----- fabrica: restart $attempt of $max_restarts (rank $rank exited with code $code) -----" >> "$f"`)
	w("  done")
	w("done")
	return b.String()
}

// slurmVars maps the contract variables that differ between ranks onto Slurm's task
// variables. With --ntasks-per-node=P and Slurm's block distribution, SLURM_PROCID =
// SLURM_NODEID × P + SLURM_LOCALID, as launch.Spec.Rank has it.
var slurmVars = map[string]string{
	"RANK": "$SLURM_PROCID", "LOCAL_RANK": "$SLURM_LOCALID", "WORLD_SIZE": "$SLURM_NTASKS",
	"GROUP_RANK": "$SLURM_NODEID", "GROUP_WORLD_SIZE": "$SLURM_NNODES",
	"ROLE_RANK": "$SLURM_PROCID", "ROLE_WORLD_SIZE": "$SLURM_NTASKS",
}

// batchVars are the contract variables the batch script exports, once per job or
// attempt.
var batchVars = map[string]bool{"MASTER_ADDR": true, "MASTER_PORT": true, "FABRICA_JOB_ID": true, "TORCHELASTIC_RESTART_COUNT": true}

// rankWrapper renders rank.sh, which srun starts once per rank: the environment of
// launch.Spec.RankEnv (the user's env, then the torchrun contract), with the variables
// that differ between ranks taken from Slurm's task variables (slurmVars) and those the
// batch script sets (batchVars) inherited, then the command. It checks that Slurm laid
// the tasks out as the job says, and records the rank's exit code in exits-ATTEMPT. A
// bare program name that is an executable in the working directory runs from there, as
// with the local provider.
func rankWrapper(j *jobFile) string {
	s := j.Spec
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("#!/bin/bash")
	w("# One rank of fabrica job %s: the torchrun environment contract, then the command.", j.ID)
	if _, ok := s.Env["PYTHONUNBUFFERED"]; !ok {
		w("export PYTHONUNBUFFERED=1")
	}
	w(`export MASTER_ADDR="${MASTER_ADDR:-$SLURM_LAUNCH_NODE_IPADDR}"`)
	for _, kv := range s.RankEnv(0, 0, 0) {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case batchVars[k]:
		case slurmVars[k] != "":
			w("export %s=\"%s\"", k, slurmVars[k])
		default:
			w("export %s=%s", k, shq(v))
		}
	}
	w("exits=%s-$TORCHELASTIC_RESTART_COUNT", shq(filepath.Join(j.dir, "exits")))
	w(`if [ "$SLURM_NTASKS" != %d ] || [ "$SLURM_PROCID" != $((SLURM_NODEID * %d + SLURM_LOCALID)) ]; then`, s.WorldSize(), s.ProcsPerNode)
	w(`  echo "fabrica: Slurm started task $SLURM_PROCID of $SLURM_NTASKS (node $SLURM_NODEID, local $SLURM_LOCALID), not the layout %s" >&2`, launch.Layout(s.Nodes, s.ProcsPerNode))
	w(`  echo "$SLURM_PROCID 2 ${EPOCHREALTIME:-0}" >> "$exits"; exit 2`)
	w("fi")
	w("set -- %s", shqAll(s.Command))
	w(`if [[ $1 != */* && -f $1 && -x $1 ]]; then set -- "./$1" "${@:2}"; fi`)
	w(`if ! command -v -- "$1" >/dev/null 2>&1; then`)
	w(`  echo "fabrica: command not found: $1 (looked in $PWD and \$PATH)" >&2; rc=127`)
	w("else")
	w(`  "$@"; rc=$?`)
	w("fi")
	w(`echo "$SLURM_PROCID $rc ${EPOCHREALTIME:-0}" >> "$exits"`)
	w(`exit "$rc"`)
	return b.String()
}

// oneLine keeps a comment on one line.
func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }
