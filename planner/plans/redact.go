package plans

import (
	"bytes"
	"encoding/json"
	"runtime"
	"slices"
	"sync"
)

// Redacted is what a sensitive value shows as.
const Redacted = "(sensitive)"

// Redact returns a copy of the plan whose sensitive attributes read "(sensitive)" in
// before and after: the form every output and the policy input use. The plan file keeps
// the real values.
//
// The redacted changes are remembered on p while its changes stay the same: a command
// redacts a plan for the policy input and again to show it, and 100,000 servers with a
// secret each cost a copy of every change. Like KeepEncoding, this is not safe while
// another goroutine redacts or changes p.
func Redact(p *Plan) *Plan {
	cp := *p // shares encoded (see KeepEncoding)
	if r := p.redacted; r != nil && sameChanges(r.of, p.ResourceChanges) {
		cp.ResourceChanges = r.changes
		return &cp
	}
	cp.ResourceChanges = make([]*ResourceChange, len(p.ResourceChanges))
	redactChanges(p.ResourceChanges, cp.ResourceChanges)
	p.redacted = &redactedChanges{of: p.ResourceChanges, changes: cp.ResourceChanges}
	return &cp
}

// redactChunk is how many changes make it worth redacting on every core.
const redactChunk = 4096

// redactChanges sets out[i] to rcs[i] redacted, on every core for a large plan.
func redactChanges(rcs, out []*ResourceChange) {
	workers := runtime.GOMAXPROCS(0)
	if len(rcs) < 2*redactChunk || workers < 2 {
		redactRange(rcs, out)
		return
	}
	var wg sync.WaitGroup
	per := (len(rcs) + workers - 1) / workers
	for lo := 0; lo < len(rcs); lo += per {
		hi := min(lo+per, len(rcs))
		wg.Go(func() { redactRange(rcs[lo:hi], out[lo:hi]) })
	}
	wg.Wait()
}

func redactRange(rcs, out []*ResourceChange) {
	for i, rc := range rcs {
		if len(rc.SensitiveAttributes) == 0 {
			out[i] = rc
			continue
		}
		before := redactAttrs(rc.Before, rc.SensitiveAttributes)
		after := before
		// An unchanged instance's after is its before, byte for byte: comparing is
		// much cheaper than scanning it again.
		if !bytes.Equal(rc.After, rc.Before) {
			after = redactAttrs(rc.After, rc.SensitiveAttributes)
		}
		if sameBytes(before, rc.Before) && (sameBytes(after, rc.After) || sameBytes(after, rc.Before)) {
			out[i] = rc // nothing secret in it (yet: a create's secret is unknown)
			continue
		}
		r := *rc
		r.Before, r.After = before, after
		out[i] = &r
	}
}

// redactedChanges are the redacted copies of a plan's changes.
type redactedChanges struct {
	of, changes []*ResourceChange
}

// sameChanges reports whether a and b are the same slice.
func sameChanges(a, b []*ResourceChange) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// sameBytes reports whether a and b are the same slice (redactAttrs returns its input
// when it changes nothing).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// redactAttrs returns attrs with the values of the named top-level members replaced by
// "(sensitive)", every other byte as it was. It scans the object once without decoding
// it: a plan of 100,000 servers, each with a secret, is redacted more than once per
// command. Attributes that are not a JSON object are returned as they are.
func redactAttrs(attrs json.RawMessage, sensitive []string) json.RawMessage {
	if attrs == nil || (!mentionsAny(attrs, sensitive) && bytes.IndexByte(attrs, '\\') < 0) {
		return attrs // no name in it, not even written with escapes
	}
	var out []byte
	last := 0
	_, ok := scanObject(attrs, true, func(key []byte, vStart, vEnd int) {
		if isSensitiveKey(key, sensitive) {
			if out == nil {
				out = make([]byte, 0, len(attrs)+len(Redacted)*len(sensitive))
			}
			out = append(out, attrs[last:vStart]...)
			out = append(out, `"`+Redacted+`"`...)
			last = vEnd
		}
	})
	if !ok || out == nil {
		return attrs
	}
	return append(out, attrs[last:]...)
}

// mentionsAny reports whether any name occurs in attrs at all (the common case is no).
func mentionsAny(attrs []byte, names []string) bool {
	for _, n := range names {
		if bytes.Contains(attrs, []byte(n)) {
			return true
		}
	}
	return false
}

// isSensitiveKey reports whether a quoted JSON key is one of names.
func isSensitiveKey(quoted []byte, names []string) bool {
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		for _, n := range names {
			if string(raw) == n { // compared without allocating
				return true
			}
		}
		return false
	}
	var k string
	if json.Unmarshal(quoted, &k) != nil {
		return false
	}
	return slices.Contains(names, k)
}
