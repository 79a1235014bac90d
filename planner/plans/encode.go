package plans

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/fabrica-iac/fabrica/internal/ordered"
)

// Encode writes the plan document as JSON, one resource change per line. Attribute
// objects are written as they are (they are canonical JSON already), so a plan of
// 100,000 instances costs a copy, not a re-encoding; the small parts go through
// encoding/json.
func Encode(w io.Writer, p *Plan) error {
	// A bytes.Buffer (the policy input) is written to directly, sized once; anything
	// else goes through a large bufio.Writer.
	var e *encoder
	if buf, ok := w.(*bytes.Buffer); ok {
		if hint := EncodedSizeHint(p); buf.Len() == 0 && buf.Cap() < hint {
			// A new slice, not Grow: Grow zeroes all of it (for 100,000 instances,
			// 190 MB touched before a byte is written); fresh memory from make is
			// zero already and is touched only as far as it is written.
			*buf = *bytes.NewBuffer(make([]byte, 0, hint))
		} else {
			buf.Grow(hint)
		}
		e = &encoder{w: buf}
	} else {
		e = &encoder{w: bufio.NewWriterSize(w, 1<<20)}
	}
	if err := e.head(p); err != nil {
		return err
	}
	e.tail(p)
	return e.flush()
}

// EncodeSummary writes the plan document without its resource changes (an empty
// resource_changes list) and without attribute_ranges: the rest of what policies read,
// for a caller that converts the changes itself (policies.Engine.CheckPlan).
func EncodeSummary(w io.Writer, p *Plan) error {
	shell := *p
	shell.ResourceChanges, shell.AttributeRanges, shell.encoded, shell.redacted = nil, nil, nil, nil
	return Encode(w, &shell)
}

// head writes the document up to the end of the resource changes: all that is known
// once the plan is made, before its policy findings and diagnostics.
func (e *encoder) head(p *Plan) error {
	e.raw("{")
	e.field("format_version", p.FormatVersion, true)
	e.field("fabrica_version", p.FabricaVersion, false)
	e.field("mode", p.Mode, false)
	e.field("lineage", p.Lineage, false)
	e.field("prior_serial", p.PriorSerial, false)
	e.field("config_hash", p.ConfigHash, false)
	e.raw(",\n\"resource_changes\":[")
	buf, direct := e.w.(*bytes.Buffer)
	switch kept, ok := p.encoded.of(p.ResourceChanges); {
	case ok:
		e.bytes(kept)
	case p.encoded != nil && direct:
		// Kept as the part of the buffer it is written to: one copy of the changes'
		// JSON in memory, not two.
		start := buf.Len()
		e.changes(p.ResourceChanges)
		if e.err == nil {
			*p.encoded = encodedChanges{rcs: p.ResourceChanges, json: buf.Bytes()[start:buf.Len():buf.Len()]}
		}
	case p.encoded != nil:
		var own bytes.Buffer
		own.Grow(EncodedSizeHint(p))
		ce := &encoder{w: &own}
		ce.changes(p.ResourceChanges)
		if ce.err != nil {
			return ce.err
		}
		*p.encoded = encodedChanges{rcs: p.ResourceChanges, json: own.Bytes()}
		e.bytes(own.Bytes())
	default:
		e.changes(p.ResourceChanges)
	}
	e.raw("\n]")
	if p.encoded == nil || len(p.AttributeRanges) == 0 {
		e.attributeRanges(p.AttributeRanges)
		return e.err
	}
	// Kept too, in memory of its own (a few percent of the changes').
	if id := reflect.ValueOf(p.AttributeRanges).UnsafePointer(); p.encoded.ranges != id {
		var own bytes.Buffer
		own.Grow(rangesSizeHint(p.AttributeRanges))
		re := &encoder{w: &own}
		re.attributeRanges(p.AttributeRanges)
		if re.err != nil {
			return re.err
		}
		p.encoded.ranges, p.encoded.rangesJSON = id, own.Bytes()
	}
	e.bytes(p.encoded.rangesJSON)
	return e.err
}

// tail writes the rest of the document after head.
func (e *encoder) tail(p *Plan) {
	e.raw(",\n")
	e.field("aggregates", nonNil(p.Aggregates), true)
	e.raw(",\n")
	e.field("outputs", nonNilMap(p.Outputs), true)
	if len(p.Variables) > 0 {
		e.raw(",\n")
		e.field("variables", p.Variables, true)
	}
	if len(p.ProviderConfigs) > 0 {
		e.raw(",\n")
		e.field("provider_configs", p.ProviderConfigs, true)
	}
	e.raw(",\n")
	e.field("diagnostics", nonNil(p.Diagnostics), true)
	if len(p.Policy) > 0 {
		e.raw(",\n\"policy\":")
		e.raw(string(p.Policy))
	}
	e.raw("\n}\n")
}

// KeepEncoding makes Encode keep the JSON of p's resource changes, for p and for the
// copies Redact makes of it from now on, and reuse it while they are the same changes:
// the plan file, written after the policy input, then costs a copy instead of a second
// encoding. It holds the encoding's memory as long as p lives. When Encode writes to a
// bytes.Buffer, what it keeps is part of that buffer's memory: the caller must not
// reset, reuse or modify the buffer (or the bytes it returned) while p lives.
func (p *Plan) KeepEncoding() {
	if p.encoded == nil {
		p.encoded = &encodedChanges{}
	}
}

// encodeChunk is how many resource changes one goroutine encodes at a time.
const encodeChunk = 2048

// changes writes the resource changes, each but the first preceded by ",". Large plans
// are encoded in chunks on every core and written in order (see internal/ordered).
func (e *encoder) changes(rcs []*ResourceChange) {
	workers := runtime.GOMAXPROCS(0)
	if len(rcs) < 2*encodeChunk || workers < 2 {
		e.changeRange(rcs, 0)
		return
	}
	n := (len(rcs) + encodeChunk - 1) / encodeChunk
	err := ordered.Encode(n, workers, func(c int, buf []byte) ([]byte, error) {
		lo := c * encodeChunk
		chunk := rcs[lo:min(lo+encodeChunk, len(rcs))]
		if hint := changesSizeHint(chunk); cap(buf) < hint {
			buf = make([]byte, 0, hint) // sized once: growing a 3 MB chunk copies it 4 times
		}
		b := bytes.NewBuffer(buf)
		cw := &encoder{w: b}
		cw.changeRange(chunk, lo)
		return b.Bytes(), cw.err
	}, func(b []byte) error {
		e.bytes(b)
		return e.err
	})
	if err != nil && e.err == nil {
		e.err = err
	}
}

// changeRange writes rcs, the changes from index first on.
func (e *encoder) changeRange(rcs []*ResourceChange, first int) {
	for i, rc := range rcs {
		if first+i > 0 {
			e.raw(",")
		}
		e.raw("\n")
		e.change(rc)
	}
}

// rangeSize is about the size of an encoded Range (and its name).
const rangeSize = 144

// EncodedSizeHint is about the size of p's JSON encoding, to size a buffer once rather
// than grow it by doubling (which, for 150 MB, costs more than the encoding).
func EncodedSizeHint(p *Plan) int {
	return 64<<10 + changesSizeHint(p.ResourceChanges) + rangesSizeHint(p.AttributeRanges)
}

// changesSizeHint is about the size of the changes' JSON.
func changesSizeHint(rcs []*ResourceChange) int {
	n := 0
	for _, rc := range rcs {
		n += len(rc.Before) + len(rc.After) + 512 + 24*(len(rc.Dependencies)+len(rc.Derived)+len(rc.AfterUnknown)) + rangeSize
	}
	return n
}

// rangesSizeHint is about the size of the attribute_ranges member.
func rangesSizeHint(m map[string]map[string]*Range) int {
	n := 0
	for name, attrs := range m {
		n += len(name) + 8 + (rangeSize+16)*len(attrs)
	}
	return n
}

type encoder struct {
	w   writer
	err error
	// Instances of one resource share their ranges (the same pointers), so each is
	// encoded once.
	ranges map[*Range][]byte
	// lists holds the last list written under each name, encoded: consecutive changes
	// are mostly instances of one resource, with the same derived names, dependencies
	// and unknown attributes.
	lists map[string]*encodedList
}

type encodedList struct {
	vs  []string
	enc []byte
}

// writer is a *bufio.Writer or a *bytes.Buffer.
type writer interface {
	io.Writer
	io.StringWriter
}

// flush flushes the writer if it is buffered.
func (e *encoder) flush() error {
	if bw, ok := e.w.(*bufio.Writer); ok && e.err == nil {
		e.err = bw.Flush()
	}
	return e.err
}

func (e *encoder) raw(s string) {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

func (e *encoder) bytes(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

// field writes "name":value, with a leading comma unless first.
func (e *encoder) field(name string, v any, first bool) {
	if !first {
		e.raw(",")
	}
	b, err := json.Marshal(name)
	if err == nil {
		e.bytes(b)
		e.raw(":")
		b, err = json.Marshal(v)
		e.bytes(b)
	}
	if err != nil && e.err == nil {
		e.err = err
	}
}

// change writes one ResourceChange with the keys and omissions encoding/json would use
// (a test checks they agree).
func (e *encoder) change(rc *ResourceChange) {
	e.raw("{")
	e.str("address", rc.Address, false, true)
	e.str("kind", rc.Kind, false, false)
	e.str("name", rc.Name, false, false)
	if rc.Index != nil {
		e.field("index", rc.Index, false)
	}
	e.str("provider", rc.Provider, false, false)
	e.str("action", string(rc.Action), false, false)
	e.str("reason", rc.Reason, true, false)
	e.rawField("before", rc.Before)
	e.rawField("after", rc.After)
	e.list("after_unknown", rc.AfterUnknown)
	e.list("derived", rc.Derived)
	e.list("replace_paths", rc.ReplacePaths)
	e.list("changed_attributes", rc.ChangedAttributes)
	e.list("sensitive_attributes", rc.SensitiveAttributes)
	if rc.DeclRange != nil {
		e.raw(`,"decl_range":`)
		e.bytes(e.cached(rc.DeclRange))
	}
	e.str("prior_id", rc.PriorID, true, false)
	e.str("config_hash", rc.ConfigHash, true, false)
	e.list("dependencies", rc.Dependencies)
	if rc.CreateBeforeDestroy {
		e.raw(`,"create_before_destroy":true`)
	}
	if rc.PreventDestroy {
		e.raw(`,"prevent_destroy":true`)
	}
	if rc.RecordOnly {
		e.raw(`,"record_only":true`)
	}
	e.raw("}")
}

func (e *encoder) cached(r *Range) []byte {
	if b, ok := e.ranges[r]; ok {
		return b
	}
	b := AppendRangeJSON(nil, r)
	if e.ranges == nil {
		e.ranges = map[*Range][]byte{}
	}
	e.ranges[r] = b
	return b
}

// AppendAttributeRangesJSON appends one resource's entry of the plan JSON's
// attribute_ranges, as encoding/json would write the map.
func AppendAttributeRangesJSON(b []byte, m map[string]*Range) []byte {
	names := slices.Sorted(maps.Keys(m))
	b = append(b, '{')
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(b, name)
		b = append(b, ':')
		b = AppendRangeJSON(b, m[name])
	}
	return append(b, '}')
}

// rangesChunk is how many resources' ranges one goroutine encodes at a time.
const rangesChunk = 1024

// attributeRanges writes the attribute_ranges member, one resource per line, in the
// order of encoding/json (sorted keys); large ones on every core.
func (e *encoder) attributeRanges(m map[string]map[string]*Range) {
	if len(m) == 0 {
		return
	}
	names := slices.Sorted(maps.Keys(m))
	e.raw(",\n\"attribute_ranges\":{")
	n := (len(names) + rangesChunk - 1) / rangesChunk
	err := ordered.Encode(n, runtime.GOMAXPROCS(0), func(c int, buf []byte) ([]byte, error) {
		lo := c * rangesChunk
		for i, name := range names[lo:min(lo+rangesChunk, len(names))] {
			if lo+i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, '\n')
			buf = appendQuoted(buf, name)
			buf = append(buf, ':')
			buf = AppendAttributeRangesJSON(buf, m[name])
		}
		return buf, nil
	}, func(b []byte) error {
		e.bytes(b)
		return e.err
	})
	if err != nil && e.err == nil {
		e.err = err
	}
	e.raw("\n}")
}

func (e *encoder) str(name, v string, omitEmpty, first bool) {
	if omitEmpty && v == "" {
		return
	}
	if !first {
		e.raw(",")
	}
	e.raw(`"`)
	e.raw(name)
	e.raw(`":`)
	e.quoted(v)
}

// AppendRangeJSON appends r as the plan JSON writes it (as encoding/json would).
func AppendRangeJSON(b []byte, r *Range) []byte {
	if r == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"filename":`...)
	b = appendQuoted(b, r.Filename)
	b = append(b, `,"start":`...)
	b = appendPos(b, r.Start)
	b = append(b, `,"end":`...)
	b = appendPos(b, r.End)
	return append(b, '}')
}

func appendPos(b []byte, p Pos) []byte {
	b = append(b, `{"line":`...)
	b = strconv.AppendInt(b, int64(p.Line), 10)
	b = append(b, `,"column":`...)
	b = strconv.AppendInt(b, int64(p.Column), 10)
	b = append(b, `,"byte":`...)
	b = strconv.AppendInt(b, int64(p.Byte), 10)
	return append(b, '}')
}

// appendQuoted appends a JSON string, as encoding/json would write it.
func appendQuoted(b []byte, v string) []byte {
	if !plainString(v) {
		q, _ := json.Marshal(v)
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// plainString reports whether v is written in JSON as it is, between quotes.
func plainString(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// quoted writes a JSON string, directly when it needs no escaping.
func (e *encoder) quoted(v string) {
	if !plainString(v) {
		b, _ := json.Marshal(v)
		e.bytes(b)
		return
	}
	e.raw(`"`)
	e.raw(v)
	e.raw(`"`)
}

func (e *encoder) rawField(name string, v json.RawMessage) {
	e.raw(`,"`)
	e.raw(name)
	e.raw(`":`)
	if v == nil {
		e.raw("null")
		return
	}
	// A provider may send indented JSON; one line per change keeps Decode parallel.
	if bytes.IndexByte(v, '\n') >= 0 {
		var buf bytes.Buffer
		if json.Compact(&buf, v) == nil {
			v = buf.Bytes()
		}
	}
	e.bytes(v)
}

func (e *encoder) list(name string, vs []string) {
	if len(vs) == 0 {
		return
	}
	l := e.lists[name]
	if l == nil {
		if e.lists == nil {
			e.lists = map[string]*encodedList{}
		}
		l = &encodedList{}
		e.lists[name] = l
	}
	if l.enc == nil || !slices.Equal(l.vs, vs) {
		b := append(l.enc[:0], `,"`...)
		b = append(append(b, name...), `":[`...)
		for i, v := range vs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendQuoted(b, v)
		}
		l.vs, l.enc = vs, append(b, ']')
	}
	e.bytes(l.enc)
}

func jsonName(tag string) (string, bool) {
	name, opts, _ := strings.Cut(tag, ",")
	return name, strings.Contains(opts, "omitempty")
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		return map[string]json.RawMessage{}
	}
	return m
}
