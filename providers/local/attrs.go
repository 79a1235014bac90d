package local

import (
	"encoding/json"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Computed attributes: the provider sets them; configuration never does. They are those
// every scheduler provider sets (see launch.AttrJobID).
const (
	attrJobID        = launch.AttrJobID
	attrLogDir       = launch.AttrLogDir
	attrLaunch       = launch.AttrLaunch
	attrStatus       = launch.AttrStatus
	attrStatusReason = launch.AttrStatusReason
	attrExitCode     = launch.AttrExitCode
	attrFailingRank  = launch.AttrFailingRank
	attrRestarts     = launch.AttrRestarts
	attrStartedAt    = launch.AttrStartedAt
	attrFinishedAt   = launch.AttrFinishedAt
)

// computed lists every computed attribute.
var computed = map[string]bool{
	attrJobID: true, attrLogDir: true, attrLaunch: true, attrStatus: true, attrStatusReason: true,
	attrExitCode: true, attrFailingRank: true, attrRestarts: true, attrStartedAt: true, attrFinishedAt: true,
}

// statusAttrs are the computed attributes that come from status.json.
var statusAttrs = []string{attrStatus, attrStatusReason, attrExitCode, attrFailingRank, attrRestarts, attrStartedAt, attrFinishedAt}

// inPlace are the arguments whose change does not relaunch the job (see launch.InPlace).
var inPlace = launch.InPlace

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
