package statefile

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/fabrica-iac/fabrica/planner/states"
)

// currentVersion is the format this package writes and the newest it reads.
const currentVersion = states.FormatVersion

// Read reads a state file from r. See Parse.
func Read(r io.Reader) (*states.State, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse decodes a state file. It validates the whole document: the JSON syntax, the
// fields, and that no address appears twice. Errors are an *Error with the position,
// or a *VersionError for a format newer than this fabrica reads.
//
// The state keeps data: every instance's Attrs is a sub-slice of it, so Parse copies
// nothing per instance but its strings. The caller must not change data afterwards.
func Parse(data []byte) (*states.State, error) {
	p := &parser{scanner: scanner{data: data}}
	s, ok := p.document()
	if !ok {
		if !p.sawVersion {
			// The error may come from a newer format with another shape; say so if
			// its format_version can be found.
			var v struct {
				FormatVersion int `json:"format_version"`
			}
			if json.Unmarshal(data, &v) == nil && v.FormatVersion > currentVersion {
				return nil, &VersionError{Version: v.FormatVersion}
			}
		}
		if p.verr != nil {
			return nil, p.verr
		}
		return nil, p.err
	}
	return s, nil
}

// parser reads a state file or journal record on top of scanner.
type parser struct {
	scanner
	sawVersion bool
	verr       *VersionError
	// intern shares the strings that repeat across instances (kind, provider).
	intern map[string]string
	// arena collects one instance's strings, which become one allocation.
	arena []byte
	deps  []span
	sens  []span
}

// span locates a string in the arena.
type span struct{ start, end int }

// document parses a whole state file.
func (p *parser) document() (*states.State, bool) {
	if p.peek() != '{' {
		return nil, p.failHere("'{' (a state file is a JSON object)")
	}
	var (
		st     *states.State
		head   states.State
		seen   = map[string]bool{}
		outs   map[string]json.RawMessage
		hasRes bool
	)
	ok := p.members(func(k []byte, keyAt int) bool {
		key := string(k)
		if seen[key] {
			return p.fail(keyAt, "duplicate field %q", key)
		}
		seen[key] = true
		var ok bool
		switch key {
		case "format_version":
			var v uint64
			if v, ok = p.uint("format_version"); !ok {
				return false
			}
			p.sawVersion = true
			if v > currentVersion {
				p.verr = &VersionError{Version: int(min(v, 1<<30))}
				return false
			}
			if v == 0 {
				return p.fail(keyAt, "format_version must be at least 1")
			}
			head.FormatVersion = int(v)
		case "fabrica_version":
			head.FabricaVersion, ok = p.text()
		case "serial":
			head.Serial, ok = p.uint("serial")
		case "lineage":
			head.Lineage, ok = p.text()
		case "outputs":
			outs, ok = p.outputs()
		case "resources":
			st, ok = p.resources()
			hasRes = true
		default:
			return p.fail(keyAt, "unknown field %q", key)
		}
		return ok
	})
	if !ok {
		return nil, false
	}
	if p.peek() != 0 {
		return nil, p.failHere("the end of the file")
	}
	switch {
	case !p.sawVersion:
		return nil, p.fail(0, "not a fabrica state file: format_version is missing")
	case head.Lineage == "":
		return nil, p.fail(0, "lineage is missing")
	}
	if !hasRes {
		st = states.NewBuilder(0).State()
	}
	st.FormatVersion = head.FormatVersion
	st.FabricaVersion = head.FabricaVersion
	st.Serial = head.Serial
	st.Lineage = head.Lineage
	st.Outputs = outs
	return st, true
}

// outputs reads the outputs object.
func (p *parser) outputs() (map[string]json.RawMessage, bool) {
	outs := map[string]json.RawMessage{}
	ok := p.members(func(k []byte, keyAt int) bool {
		if _, dup := outs[string(k)]; dup {
			return p.fail(keyAt, "duplicate output %q", k)
		}
		v, ok := p.value()
		if ok && p.space {
			v, ok = p.compacted(v)
		}
		outs[string(k)] = v
		return ok
	})
	return outs, ok
}

func (p *parser) compacted(v []byte) ([]byte, bool) {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return nil, p.fail(p.pos, "%v", err)
	}
	return b.Bytes(), true
}

// resources reads the array of instances.
func (p *parser) resources() (*states.State, bool) {
	if p.peek() != '[' {
		return nil, p.failHere("'[' (a list of resource instances)")
	}
	// Instances are written one per line: estimate their number to size the map.
	rest := p.data[p.pos:]
	n := min(bytes.Count(rest, []byte{'\n'}), len(rest)/64)
	if st, ok := p.resourcesParallel(n); ok {
		return st, true
	}
	b := states.NewBuilder(n)
	var slab []states.Instance
	ok := p.elements(func() bool {
		if len(slab) == 0 {
			slab = make([]states.Instance, min(max(n, 16), 4096))
		}
		inst := &slab[0]
		slab = slab[1:]
		p.ws()
		at := p.pos
		if !p.instance(inst) {
			return false
		}
		if !b.Add(inst) {
			return p.fail(at, "duplicate resource instance address %s", inst.Address)
		}
		return true
	})
	if !ok {
		return nil, false
	}
	return b.State(), true
}

// Instance field bits, to find duplicates.
const (
	fAddress = 1 << iota
	fKind
	fProvider
	fID
	fAttrs
	fAttrsHash
	fConfigHash
	fDeps
	fCreated
	fUpdated
	fTainted
	fSensitive
)

// instance reads one instance object into inst.
func (p *parser) instance(inst *states.Instance) bool {
	p.ws()
	start := p.pos
	if p.peek() != '{' {
		return p.failHere("'{' (a resource instance)")
	}
	p.arena = p.arena[:0]
	p.deps = p.deps[:0]
	p.sens = p.sens[:0]
	var addr, id, ahash, chash span
	var seen int
	ok := p.members(func(k []byte, keyAt int) bool {
		var bit int
		ok := true
		switch string(k) {
		case "address":
			bit = fAddress
			addr, ok = p.arenaString()
		case "kind":
			bit = fKind
			inst.Kind, ok = p.interned()
		case "provider":
			bit = fProvider
			inst.Provider, ok = p.interned()
		case "id":
			bit = fID
			id, ok = p.arenaString()
		case "attrs":
			bit = fAttrs
			inst.Attrs, ok = p.attrs()
		case "attrs_hash":
			bit = fAttrsHash
			ahash, ok = p.arenaString()
		case "config_hash":
			bit = fConfigHash
			chash, ok = p.arenaString()
		case "dependencies":
			bit = fDeps
			ok = p.dependencies()
		case "created_at":
			bit = fCreated
			inst.CreatedAt, ok = p.timestamp()
		case "updated_at":
			bit = fUpdated
			inst.UpdatedAt, ok = p.timestamp()
		case "tainted":
			bit = fTainted
			inst.Tainted, ok = p.boolean()
		case "sensitive_attributes":
			bit = fSensitive
			ok = p.names(&p.sens)
		default:
			return p.fail(keyAt, "unknown field %q in a resource instance", k)
		}
		if !ok {
			return false
		}
		if seen&bit != 0 {
			return p.fail(keyAt, "duplicate field %q in a resource instance", k)
		}
		seen |= bit
		return true
	})
	if !ok {
		return false
	}
	// One allocation holds all of the instance's own strings.
	all := string(p.arena)
	inst.Address = all[addr.start:addr.end]
	inst.ID = all[id.start:id.end]
	inst.AttrsHash = all[ahash.start:ahash.end]
	inst.ConfigHash = all[chash.start:chash.end]
	if len(p.deps) > 0 {
		inst.Dependencies = make([]string, len(p.deps))
		for i, d := range p.deps {
			inst.Dependencies[i] = all[d.start:d.end]
		}
	}
	if len(p.sens) > 0 {
		inst.Sensitive = make([]string, len(p.sens))
		for i, d := range p.sens {
			inst.Sensitive[i] = all[d.start:d.end]
		}
	}
	switch {
	case inst.Address == "":
		return p.fail(start, "a resource instance has no address")
	case inst.Kind == "":
		return p.fail(start, "resource instance %s has no kind", inst.Address)
	}
	return true
}

// arenaString reads a string into the arena and returns its span.
func (p *parser) arenaString() (span, bool) {
	raw, esc, ok := p.str()
	if !ok {
		return span{}, false
	}
	start := len(p.arena)
	if esc {
		v, ok := p.unescape(raw)
		if !ok {
			return span{}, false
		}
		p.arena = append(p.arena, v...)
	} else {
		p.arena = append(p.arena, raw...)
	}
	return span{start, len(p.arena)}, true
}

// interned reads a string that is likely to repeat.
func (p *parser) interned() (string, bool) {
	raw, esc, ok := p.str()
	if !ok {
		return "", false
	}
	if esc {
		return p.unescape(raw)
	}
	if v, ok := p.intern[string(raw)]; ok {
		return v, true
	}
	if p.intern == nil {
		p.intern = map[string]string{}
	}
	v := string(raw)
	p.intern[v] = v
	return v, true
}

// attrs reads the attributes: an object, or null for none.
func (p *parser) attrs() (json.RawMessage, bool) {
	if c := p.peek(); c != '{' && c != 'n' {
		return nil, p.failHere("a JSON object (the attributes)")
	}
	v, ok := p.value()
	if !ok {
		return nil, false
	}
	if v[0] == 'n' {
		return nil, true
	}
	if p.space {
		return p.compacted(v)
	}
	return v, true
}

func (p *parser) dependencies() bool {
	if p.peek() != '[' {
		return p.failHere("'[' (a list of addresses)")
	}
	return p.names(&p.deps)
}

// names reads a list of strings into the arena, appending their spans to into.
func (p *parser) names(into *[]span) bool {
	if p.peek() != '[' {
		return p.failHere("'[' (a list of names)")
	}
	return p.elements(func() bool {
		sp, ok := p.arenaString()
		*into = append(*into, sp)
		return ok
	})
}

// members reads an object, calling fn with each key and its offset; fn reads the value.
func (p *parser) members(fn func(key []byte, keyAt int) bool) bool {
	if !p.consume('{', "'{'") {
		return false
	}
	if p.peek() == '}' {
		p.pos++
		return true
	}
	for {
		keyAt := p.pos
		k, ok := p.key()
		if !ok || !fn(k, keyAt) {
			return false
		}
		more, ok := p.more('}')
		if !ok || !more {
			return ok
		}
	}
}

// elements reads an array, calling fn to read each element.
func (p *parser) elements(fn func() bool) bool {
	if !p.consume('[', "'['") {
		return false
	}
	if p.peek() == ']' {
		p.pos++
		return true
	}
	for {
		if !fn() {
			return false
		}
		more, ok := p.more(']')
		if !ok || !more {
			return ok
		}
	}
}
