package plans

import (
	"encoding/json"
	"slices"
)

// Redacted is what a sensitive value shows as.
const Redacted = "(sensitive)"

// Redact returns a copy of the plan whose sensitive attributes read "(sensitive)" in
// before and after: the form every output and the policy input use. The plan file keeps
// the real values.
func Redact(p *Plan) *Plan {
	cp := *p
	cp.ResourceChanges = make([]*ResourceChange, len(p.ResourceChanges))
	for i, rc := range p.ResourceChanges {
		if len(rc.SensitiveAttributes) == 0 {
			cp.ResourceChanges[i] = rc
			continue
		}
		r := *rc
		r.Before = redactAttrs(rc.Before, rc.SensitiveAttributes)
		r.After = redactAttrs(rc.After, rc.SensitiveAttributes)
		cp.ResourceChanges[i] = &r
	}
	return &cp
}

func redactAttrs(attrs json.RawMessage, sensitive []string) json.RawMessage {
	if attrs == nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(attrs, &m) != nil {
		return attrs
	}
	for k := range m {
		if slices.Contains(sensitive, k) {
			m[k] = json.RawMessage(`"` + Redacted + `"`)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return attrs
	}
	return out
}
