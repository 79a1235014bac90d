package statefile

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/fabrica-iac/fabrica/planner/states"
)

// Backends that store instances one by one (planner/states/pg) encode each with
// AppendInstance and decode it with an InstanceDecoder, so an instance has the same
// bytes in a row as on its line of a state file.

// AppendInstance appends inst as one compact JSON object, exactly as it appears on its
// line of a state file. An instance without address or kind, or with attributes that
// are not a JSON object, is an *InvalidInstanceError.
func AppendInstance(b []byte, inst *states.Instance) ([]byte, error) {
	out, err := appendInstance(b, inst)
	if err != nil {
		return b, err
	}
	return out, nil
}

// InstanceDecoder decodes instance objects written by AppendInstance. It reuses its
// buffers and shares repeated strings (kind, provider) between the instances it
// decodes. It is not safe for concurrent use; the zero value is ready.
type InstanceDecoder struct {
	p parser
}

// Decode parses data, one instance object, into inst. inst.Attrs is a sub-slice of
// data, which the caller must not change afterwards. Errors are an *Error with the
// position in data, or a *VersionError.
func (d *InstanceDecoder) Decode(data []byte, inst *states.Instance) error {
	p := &d.p
	p.scanner = scanner{data: data}
	p.verr = nil
	*inst = states.Instance{}
	if !p.instance(inst) {
		if p.verr != nil {
			return p.verr
		}
		return p.err
	}
	if p.peek() != 0 {
		p.failHere("the end of the instance")
		return p.err
	}
	return nil
}

// AppendOutputs appends outputs as one compact JSON object, names sorted and values
// validated and compacted as in a state file; nil or empty outputs are {}.
func AppendOutputs(b []byte, outputs map[string]json.RawMessage) ([]byte, error) {
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(outputs)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendJSON(b, outputs[k]); err != nil {
			return nil, &InvalidInstanceError{Msg: "output " + k + ": " + err.Error()}
		}
	}
	return append(b, '}'), nil
}

// ParseOutputs decodes what AppendOutputs writes. The values are sub-slices of data
// (or compacted copies). Errors are an *Error with the position.
func ParseOutputs(data []byte) (map[string]json.RawMessage, error) {
	p := &parser{scanner: scanner{data: data}}
	outs, ok := p.outputs()
	if ok && p.peek() != 0 {
		ok = p.failHere("the end of the outputs")
	}
	if !ok {
		return nil, p.err
	}
	return outs, nil
}
