package slurm

import (
	"encoding/json"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Computed attributes: the provider sets them; configuration never does. They are the
// local provider's, plus slurm_job_id and nodelist.
const (
	attrJobID        = launch.AttrJobID
	attrSlurmJobID   = "slurm_job_id" // Slurm's id of the job (scontrol show job ID)
	attrLogDir       = launch.AttrLogDir
	attrLaunch       = launch.AttrLaunch
	attrStatus       = launch.AttrStatus
	attrStatusReason = launch.AttrStatusReason
	attrExitCode     = launch.AttrExitCode
	attrFailingRank  = launch.AttrFailingRank
	attrRestarts     = launch.AttrRestarts
	attrStartedAt    = launch.AttrStartedAt
	attrFinishedAt   = launch.AttrFinishedAt
	attrNodeList     = "nodelist" // the nodes Slurm allocated, once running
)

// computed lists every computed attribute.
var computed = map[string]bool{
	attrJobID: true, attrSlurmJobID: true, attrLogDir: true, attrLaunch: true, attrStatus: true,
	attrStatusReason: true, attrExitCode: true, attrFailingRank: true, attrRestarts: true,
	attrStartedAt: true, attrFinishedAt: true, attrNodeList: true,
}

// inPlace are the arguments whose change does not relaunch the job (see launch.InPlace).
var inPlace = launch.InPlace

// arguments returns the attributes without the computed ones.
func arguments(m map[string]json.RawMessage) map[string]json.RawMessage {
	return launch.Arguments(m, computed)
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
	return launch.StatusReason(address, st.Status, st.Message, st.FailingRank)
}

// The attribute helpers shared with the other scheduler providers (providers/launch).
var (
	decodeObject = launch.DecodeObject
	encodeObject = launch.EncodeObject
	rawJSON      = launch.RawJSON
	stringAttr   = launch.StringAttr
)

// changedArgs returns the arguments (not computed attributes) whose values differ
// between prior and desired, sorted.
func changedArgs(prior, desired map[string]json.RawMessage) []string {
	return launch.ChangedArgs(prior, desired, computed)
}
