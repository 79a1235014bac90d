package slurm

import (
	"encoding/json"
	"fmt"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Computed attributes: the provider sets them; configuration never does. They are the
// local provider's, plus slurm_job_id and nodelist.
const (
	attrJobID        = "job_id"        // fabrica's id of the job (its directory name)
	attrSlurmJobID   = "slurm_job_id"  // Slurm's id of the job (scontrol show job ID)
	attrLogDir       = "log_dir"       // the job's directory, holding rank-N.log
	attrLaunch       = "launch"        // launch.Spec.Summary of what was (or will be) launched
	attrStatus       = "status"        // pending, running, succeeded, failed, cancelled
	attrStatusReason = "status_reason" // why it failed, was restarted or will be replaced
	attrExitCode     = "exit_code"     // once finished
	attrFailingRank  = "failing_rank"  // once failed because of a rank
	attrRestarts     = "restarts"      // group restarts so far
	attrStartedAt    = "started_at"    // RFC 3339, once the job started
	attrFinishedAt   = "finished_at"   // RFC 3339, once finished
	attrNodeList     = "nodelist"      // the nodes Slurm allocated, once running
)

// computed lists every computed attribute.
var computed = map[string]bool{
	attrJobID: true, attrSlurmJobID: true, attrLogDir: true, attrLaunch: true, attrStatus: true,
	attrStatusReason: true, attrExitCode: true, attrFailingRank: true, attrRestarts: true,
	attrStartedAt: true, attrFinishedAt: true, attrNodeList: true,
}

// inPlace are the arguments whose change does not relaunch the job: wait only changes
// how long apply waits, and memory_per_gpu_gb is a plan-time estimate.
var inPlace = map[string]bool{"wait": true, "memory_per_gpu_gb": true}

// normalized re-encodes a JSON value so equal values have equal bytes.

// changedArgs returns the arguments (not computed attributes) whose values differ between

// arguments returns the attributes without the computed ones.
func arguments(m map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		if !computed[k] {
			out[k] = v
		}
	}
	return out
}

// attrsOf returns a job's attributes: its stored arguments and launch-time attributes
// with the status ones from st. Read, Import and Apply all build them here, so they agree
// byte for byte.
func attrsOf(j *jobFile, st jobStatus) json.RawMessage {
	m, err := decodeObject(j.Attrs)
	if err != nil {
		m = map[string]json.RawMessage{}
	}
	m = arguments(m)
	m[attrJobID] = rawJSON(j.ID)
	m[attrLogDir] = rawJSON(j.dir)
	m[attrLaunch] = j.Launch
	if j.SlurmID != "" {
		m[attrSlurmJobID] = rawJSON(j.SlurmID)
	}
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
	for k, v := range map[string]string{attrStartedAt: st.StartedAt, attrFinishedAt: st.FinishedAt, attrNodeList: st.NodeList} {
		if v != "" {
			m[k] = rawJSON(v)
		}
	}
	return encodeObject(m)
}

// reasonText says why a job is in its status, with where to look when a rank failed.
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
