package slurm

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// stateInfo is how one Slurm job state maps onto the status model.
type stateInfo struct {
	status string
	why    string // for failed and cancelled states Slurm ends: what happened
}

// slurmStates maps Slurm's job states (squeue %T) onto the status model. COMPLETING is
// still running: its processes are being cleaned up. Requeueing is off, so PREEMPTED,
// NODE_FAIL and the like are final.
var slurmStates = map[string]stateInfo{
	"PENDING": {status: StatusPending}, "CONFIGURING": {status: StatusPending},
	"REQUEUED": {status: StatusPending}, "REQUEUE_HOLD": {status: StatusPending},
	"REQUEUE_FED": {status: StatusPending}, "RESV_DEL_HOLD": {status: StatusPending},
	"RUNNING": {status: StatusRunning}, "COMPLETING": {status: StatusRunning},
	"SUSPENDED": {status: StatusRunning, why: "suspended by Slurm"}, "STAGE_OUT": {status: StatusRunning},
	"SIGNALING": {status: StatusRunning}, "RESIZING": {status: StatusRunning},
	"COMPLETED":     {status: StatusSucceeded},
	"FAILED":        {status: StatusFailed, why: "the batch script failed"},
	"CANCELLED":     {status: StatusCancelled, why: "cancelled"},
	"REVOKED":       {status: StatusCancelled, why: "revoked by Slurm"},
	"TIMEOUT":       {status: StatusFailed, why: "reached its time limit"},
	"DEADLINE":      {status: StatusFailed, why: "missed its deadline"},
	"NODE_FAIL":     {status: StatusFailed, why: "a node of its allocation failed"},
	"BOOT_FAIL":     {status: StatusFailed, why: "its nodes failed to boot"},
	"PREEMPTED":     {status: StatusFailed, why: "preempted by another job"},
	"OUT_OF_MEMORY": {status: StatusFailed, why: "ran out of memory"},
	"SPECIAL_EXIT":  {status: StatusFailed, why: "ended in a special exit state"},
}

// stuckReasons are the pending reasons that need someone to change the job or the
// cluster before Slurm starts it (a cluster with EnforcePartLimits=NO queues such jobs
// instead of rejecting them): a wait gives up on them at once rather than hang.
var stuckReasons = map[string]string{
	"PartitionNodeLimit":       "it asks for more nodes than the partition allows, or the nodes it needs are down or drained",
	"PartitionTimeLimit":       "its time limit exceeds the partition's",
	"PartitionDown":            "the partition is down",
	"PartitionInactive":        "the partition is inactive",
	"BadConstraints":           "no node can ever satisfy its constraints",
	"InvalidAccount":           "its account is invalid",
	"InvalidQOS":               "its QOS is invalid",
	"AccountNotAllowed":        "its account may not use the partition",
	"QOSNotAllowed":            "its QOS may not use the partition",
	"DependencyNeverSatisfied": "its dependency can never be satisfied",
}

// batchOutcome is what the batch script recorded in the job directory.
type batchOutcome struct {
	restarts    int
	lastFailure string // "rank 1 exited with code 3", for the last restart
	result      string // "succeeded", "failed", or "" while it runs (or when killed)
	rank        *int   // the failing rank of a failed result, when known
	code        *int   // the exit code of a failed result
}

// readOutcome reads the restarts and result files.
func readOutcome(dir string) batchOutcome {
	var o batchOutcome
	if b, err := os.ReadFile(filepath.Join(dir, restartsFile)); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 {
				o.restarts++
				o.lastFailure = failureText(f[1], f[2])
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, resultFile))
	if err != nil {
		return o
	}
	f := strings.Fields(string(b))
	switch {
	case len(f) == 1 && f[0] == "succeeded":
		o.result = StatusSucceeded
	case len(f) == 3 && f[0] == "failed":
		o.result = StatusFailed
		if r, err := strconv.Atoi(f[1]); err == nil {
			o.rank = &r
		}
		if c, err := strconv.Atoi(f[2]); err == nil {
			o.code = &c
		}
	}
	return o
}

// failureText describes a rank's exit as the local provider does.
func failureText(rank, code string) string {
	c, _ := strconv.Atoi(code)
	switch {
	case rank == "-":
		return fmt.Sprintf("srun failed with code %d before any rank did (see batch.log)", c)
	case c == 127:
		return fmt.Sprintf("rank %s exited with code 127 (command not found)", rank)
	case c > 128 && c < 128+65:
		return fmt.Sprintf("rank %s was killed by signal %d", rank, c-128)
	}
	return fmt.Sprintf("rank %s exited with code %d", rank, c)
}

// restartsText says how many restarts it took.
func restartsText(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return " after 1 restart"
	}
	return fmt.Sprintf(" after %d restarts", n)
}

// statusOf combines Slurm's view of a job with what its batch script recorded.
func statusOf(sj slurmJob, o batchOutcome) jobStatus {
	info, ok := slurmStates[sj.State]
	if !ok {
		info = stateInfo{status: StatusPending, why: "Slurm state " + sj.State}
	}
	st := jobStatus{Status: info.status, Restarts: o.restarts, SlurmState: sj.State, NodeList: sj.Node}
	if info.status != StatusPending {
		st.StartedAt = sj.Start
	}
	if final(info.status) {
		st.FinishedAt = sj.End
	}
	switch info.status {
	case StatusPending:
		st.NodeList = ""
		if info.why != "" {
			st.Message = info.why
		} else if why, ok := stuckReasons[sj.Reason]; ok {
			st.Message = fmt.Sprintf("Slurm will not start it as it is: %s (%s)", sj.Reason, why)
			st.Stuck = true
		} else if sj.Reason != "" && sj.Reason != "None" {
			st.Message = "waiting for Slurm: " + sj.Reason
		}
	case StatusRunning:
		st.Message = info.why
		if o.restarts > 0 {
			st.Message = fmt.Sprintf("restart %d of the group after %s", o.restarts, o.lastFailure)
		}
	case StatusSucceeded:
		zero := 0
		st.ExitCode = &zero
		if o.restarts > 0 {
			st.Message = fmt.Sprintf("succeeded%s (the last after %s)", restartsText(o.restarts), o.lastFailure)
		}
	case StatusFailed:
		failedStatus(&st, sj, o, info.why)
	case StatusCancelled:
		st.Message = info.why
	}
	return st
}

// failedStatus fills in the exit code, failing rank and message of a failed job.
func failedStatus(st *jobStatus, sj slurmJob, o batchOutcome, why string) {
	if sj.State == "FAILED" && o.result == StatusFailed && o.code != nil {
		st.ExitCode, st.FailingRank = o.code, o.rank
		rank := "-"
		if o.rank != nil {
			rank = strconv.Itoa(*o.rank)
		}
		st.Message = failureText(rank, strconv.Itoa(*o.code)) + restartsText(o.restarts)
		return
	}
	code, sig := sj.WaitStatus>>8&0xff, sj.WaitStatus&0x7f
	if sig != 0 {
		code = 128 + sig
	}
	st.ExitCode = &code
	st.Message = fmt.Sprintf("Slurm job %s %s (%s, exit code %d)", sj.ID, why, sj.State, code)
	if o.restarts > 0 {
		st.Message += restartsText(o.restarts)
	}
}

// forgotten is the status of a job Slurm no longer knows (it forgets finished jobs after
// MinJobAge): the batch script's result when it left one, else failed.
func forgotten(slurmID string, o batchOutcome) jobStatus {
	st := jobStatus{Status: StatusFailed, Restarts: o.restarts}
	switch o.result {
	case StatusSucceeded:
		zero := 0
		st.Status, st.ExitCode = StatusSucceeded, &zero
	case StatusFailed:
		st.ExitCode, st.FailingRank = o.code, o.rank
		rank, code := "-", "1"
		if o.rank != nil {
			rank = strconv.Itoa(*o.rank)
		}
		if o.code != nil {
			code = strconv.Itoa(*o.code)
		}
		st.Message = failureText(rank, code) + restartsText(o.restarts)
	default:
		st.Message = fmt.Sprintf("Slurm no longer knows job %s (it forgets finished jobs after MinJobAge) and its batch script left no result; it was probably cancelled or killed", slurmID)
	}
	return st
}
