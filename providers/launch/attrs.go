package launch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Attribute helpers shared by the scheduler providers, which keep a job's attributes as
// a map of JSON values.

// Computed attributes every scheduler provider sets (configuration never does); a
// provider may add its own. They are named here so that a job reads the same whatever
// ran it, and so that the shared plan rules (JobPlan) can read them.
const (
	AttrJobID        = "job_id"        // fabrica's id of the job (its directory name)
	AttrLogDir       = "log_dir"       // the job's directory, holding rank-N.log
	AttrLaunch       = "launch"        // Spec.Summary of what was (or will be) launched
	AttrStatus       = "status"        // pending, running, succeeded, failed, cancelled
	AttrStatusReason = "status_reason" // why it failed, was restarted or will be replaced
	AttrExitCode     = "exit_code"     // once finished
	AttrFailingRank  = "failing_rank"  // once failed because of a rank
	AttrRestarts     = "restarts"      // group restarts so far
	AttrStartedAt    = "started_at"    // RFC 3339, once the job started
	AttrFinishedAt   = "finished_at"   // RFC 3339, once finished
)

// DecodeObject splits a JSON object into its attributes.
func DecodeObject(a json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(a, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("attributes are null, not an object")
	}
	return m, nil
}

// EncodeObject writes attributes as canonical JSON (keys sorted, compact).
func EncodeObject(m map[string]json.RawMessage) json.RawMessage {
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("launch: encoding attributes: %v", err)) // values were decoded, so valid
	}
	return b
}

// RawJSON encodes a value, which must be encodable.
func RawJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// Normalized re-encodes a JSON value so equal values have equal bytes.
func Normalized(v json.RawMessage) string {
	var x any
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if d.Decode(&x) != nil {
		return string(v)
	}
	return string(RawJSON(x))
}

// OrNull returns v, or JSON null when v is empty.
func OrNull(v json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return json.RawMessage("null")
	}
	return v
}

// ChangedArgs returns the attributes not in computed whose values differ between prior
// and desired, sorted; an absent attribute equals null.
func ChangedArgs(prior, desired map[string]json.RawMessage, computed map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range []map[string]json.RawMessage{prior, desired} {
		for k := range m {
			if computed[k] || seen[k] {
				continue
			}
			seen[k] = true
			if Normalized(OrNull(prior[k])) != Normalized(OrNull(desired[k])) {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// StringAttr returns a string attribute, "" when absent or not a string.
func StringAttr(m map[string]json.RawMessage, name string) string {
	var s string
	_ = json.Unmarshal(m[name], &s)
	return s
}

// Arguments returns the attributes of m that are not computed: what configuration set,
// which is what a job is planned, compared and adopted by.
func Arguments(m map[string]json.RawMessage, computed map[string]bool) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		if !computed[k] {
			out[k] = v
		}
	}
	return out
}

// Relaunching returns the arguments of changed that are not changed in place: those
// whose change means a new job.
func Relaunching(changed []string, inPlace map[string]bool) []string {
	var out []string
	for _, k := range changed {
		if !inPlace[k] {
			out = append(out, k)
		}
	}
	return out
}
