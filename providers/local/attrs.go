package local

import (
	"encoding/json"
	"fmt"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Computed attributes: the provider sets them; configuration never does.
const (
	attrJobID        = "job_id"        // the job's id (its directory name)
	attrLogDir       = "log_dir"       // the job's directory, holding rank-N.log
	attrLaunch       = "launch"        // launch.Spec.Summary of what was (or will be) launched
	attrStatus       = "status"        // pending, running, succeeded, failed, cancelled
	attrStatusReason = "status_reason" // why it failed, was restarted or will be replaced
	attrExitCode     = "exit_code"     // once finished
	attrFailingRank  = "failing_rank"  // once failed because of a rank
	attrRestarts     = "restarts"      // group restarts so far
	attrStartedAt    = "started_at"    // RFC 3339, once the ranks started
	attrFinishedAt   = "finished_at"   // RFC 3339, once finished
)

// computed lists every computed attribute.
var computed = map[string]bool{
	attrJobID: true, attrLogDir: true, attrLaunch: true, attrStatus: true, attrStatusReason: true,
	attrExitCode: true, attrFailingRank: true, attrRestarts: true, attrStartedAt: true, attrFinishedAt: true,
}

// statusAttrs are the computed attributes that come from status.json.
var statusAttrs = []string{attrStatus, attrStatusReason, attrExitCode, attrFailingRank, attrRestarts, attrStartedAt, attrFinishedAt}

// inPlace are the arguments whose change does not relaunch the job: wait only changes
// how long apply waits, and memory_per_gpu_gb is a plan-time estimate. Every other
// argument is part of what runs, so its change replaces the job.
var inPlace = map[string]bool{"wait": true, "memory_per_gpu_gb": true}

// normalized re-encodes a JSON value so equal values have equal bytes.

// changedArgs returns the arguments (not computed attributes) whose values differ between

// attrsOf returns a job's attributes: its stored attributes with the status ones from
// st. Read, Import and Apply all build them here, so they agree byte for byte.
func attrsOf(j *jobFile, st jobStatus) json.RawMessage {
	m, err := decodeObject(j.Attrs)
	if err != nil {
		m = map[string]json.RawMessage{}
	}
	for _, k := range statusAttrs {
		delete(m, k)
	}
	m[attrJobID] = rawJSON(j.ID)
	m[attrStatus] = rawJSON(st.Status)
	m[attrRestarts] = rawJSON(st.Restarts)
	if r := reasonText(j.Address, st); r != "" {
		m[attrStatusReason] = rawJSON(r)
	}
	if st.ExitCode != nil {
		m[attrExitCode] = rawJSON(*st.ExitCode)
	}
	if st.FailingRank != nil {
		m[attrFailingRank] = rawJSON(*st.FailingRank)
	}
	if st.StartedAt != "" {
		m[attrStartedAt] = rawJSON(st.StartedAt)
	}
	if st.FinishedAt != "" {
		m[attrFinishedAt] = rawJSON(st.FinishedAt)
	}
	return encodeObject(m)
}

// reasonText says why a job is in its status: the supervisor's message, with where to
// look when a rank failed.
func reasonText(address string, st jobStatus) string {
	msg := st.Message
	if st.Status == StatusFailed && st.FailingRank != nil {
		msg += fmt.Sprintf(" (see fabrica logs %s --rank %d)", address, *st.FailingRank)
	}
	return msg
}

// stringAttr returns a string attribute, "" when absent or not a string.

// The attribute helpers shared with the other scheduler providers (providers/launch).
var (
	decodeObject = launch.DecodeObject
	encodeObject = launch.EncodeObject
	rawJSON      = launch.RawJSON
	normalized   = launch.Normalized
	orNull       = launch.OrNull
	stringAttr   = launch.StringAttr
)

// changedArgs returns the arguments (not computed attributes) whose values differ
// between prior and desired, sorted.
func changedArgs(prior, desired map[string]json.RawMessage) []string {
	return launch.ChangedArgs(prior, desired, computed)
}
