package policies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/open-policy-agent/opa/v1/ast"
)

// A plan made in this process is checked without its JSON: encoding 100,000 changes
// (about 100 MB) only to decode them again took a third of a no-change plan's policy
// stage. planInputOf converts the changes into the terms decodePlanInput would make
// of their JSON (plans.Encode), field by field as the encoder writes them; the
// attributes, which are JSON already, go through the same decoder and share subtrees
// and strings as it does. The rest of the document is small and goes through JSON
// (plans.EncodeSummary), so there is one definition of it. A test compares the two
// inputs on every plan it makes.

// planInputOf builds the policy input of p, which must be redacted as the plan JSON
// is (plans.Redact): the value decodePlanInput returns for p's JSON, without the
// changes of kind drop when drop is not empty (see readsHardwareChanges); their
// attributes are still checked to be JSON.
// The error is a *PlanError: the plan's summary (outputs, variables, aggregates) or a
// resource change is not valid JSON.
func planInputOf(p *plans.Plan, drop string) (*planInput, error) {
	var summary bytes.Buffer
	if err := plans.EncodeSummary(&summary, p); err != nil {
		return nil, &PlanError{Msg: "the plan cannot be encoded", Err: err}
	}
	d, err := decode(summary.Bytes(), true)
	if err != nil {
		return nil, &PlanError{Msg: "the plan is not valid JSON", Err: err}
	}
	doc, ok := d.result.(ast.Object)
	if !ok {
		return nil, &PlanError{Msg: "the plan is not a JSON object"}
	}
	changes, kinds, err := changesTerm(p.ResourceChanges, d.seed, drop)
	if err != nil {
		return nil, &PlanError{Msg: "a resource change is not valid JSON", Err: err}
	}
	pairs := make([][2]*ast.Term, 0, doc.Len())
	doc.Foreach(func(k, v *ast.Term) {
		if k.Equal(keyResourceChanges) {
			v = changes
		}
		pairs = append(pairs, [2]*ast.Term{k, v})
	})
	ranges := rangesByJSONKey(p.AttributeRanges)
	var dropped func(map[string]bool) []*ast.Term
	if drop != "" {
		dropped = func(want map[string]bool) []*ast.Term {
			c := newChangeConverter(d.seed)
			var out []*ast.Term
			for _, rc := range p.ResourceChanges {
				if rc.Kind == drop && want[validUTF8(rc.Address)] {
					if t, err := c.change(rc); err == nil { // checked when the input was built
						out = append(out, t)
					}
				}
			}
			return out
		}
	}
	return &planInput{
		value:   ast.NewObject(pairs...),
		valid:   func() error { return nil },
		kinds:   kinds,
		dropped: dropped,
		resourceRanges: func(wanted map[string][]string) map[string]*ast.Term {
			out := map[string]*ast.Term{}
			for res := range wanted {
				if m, ok := ranges[res]; ok {
					if v, err := decodeInput(plans.AppendAttributeRangesJSON(nil, m)); err == nil {
						out[res] = ast.NewTerm(v)
					}
				}
			}
			return out
		},
	}, nil
}

// rangesByJSONKey returns the attribute ranges by resource as the plan JSON names them
// (validUTF8): the same map unless a name is not valid UTF-8.
func rangesByJSONKey(m map[string]map[string]*plans.Range) map[string]map[string]*plans.Range {
	for k := range m {
		if !utf8.ValidString(k) {
			out := make(map[string]map[string]*plans.Range, len(m))
			for k, v := range m {
				out[validUTF8(k)] = v
			}
			return out
		}
	}
	return m
}

// changesTerm converts the resource changes on every core, each goroutine with its own
// decoder (and so its own caches), as decodePlanInput decodes their JSON. It returns
// their kinds beside. Changes of kind drop (when not empty) are left out; their
// attributes are only checked to be JSON.
func changesTerm(rcs []*plans.ResourceChange, seed maphash.Seed, drop string) (*ast.Term, *changeKinds, error) {
	terms := make([]*ast.Term, len(rcs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(rcs)/1024))
	per := (len(rcs) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, len(rcs))
		if lo >= hi {
			continue
		}
		wg.Go(func() {
			c := newChangeConverter(seed)
			var checked []byte // the last attributes found acceptable
			for i := lo; i < hi; i++ {
				var err error
				if drop == "" || rcs[i].Kind != drop {
					terms[i], err = c.change(rcs[i])
				} else if !acceptable(rcs[i], &checked) {
					_, err = c.change(rcs[i]) // the error converting it gives, if any
				}
				if err != nil {
					errs[w] = fmt.Errorf("%s: %w", rcs[i].Address, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	kinds := make([]string, 0, len(rcs))
	kept := terms[:0]
	for i, t := range terms {
		if t != nil {
			kept = append(kept, t)
			kinds = append(kinds, validUTF8(rcs[i].Kind)) // as change writes it
		}
	}
	arr := ast.NewArray(kept...)
	return ast.NewTerm(arr), &changeKinds{changes: arr, kinds: kinds}, nil
}

// acceptable reports, without building terms, that converting a change left out of
// the input would succeed: its index is one a plan makes and its attributes are JSON
// that decoding accepts. When it is not, converting it says why. checked holds the
// last attributes found acceptable: the instances of a counted block planned for
// creation usually share theirs, which are checked once.
func acceptable(rc *plans.ResourceChange, checked *[]byte) bool {
	switch x := rc.Index.(type) {
	case nil, string, int:
	case float64: // as a plan file decodes
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	default:
		return false
	}
	for _, raw := range [2][]byte{rc.Before, rc.After} {
		if raw == nil || sameBytes(raw, *checked) {
			continue
		}
		if !validJSON(raw, internDepth) {
			return false
		}
		*checked = raw
	}
	return true
}

// The lists of a change.
const (
	listAfterUnknown = iota
	listDerived
	listReplacePaths
	listChangedAttributes
	listSensitiveAttributes
	listDependencies
	numLists
)

// changeConverter converts resource changes into terms. Consecutive changes are
// usually instances of one resource: it keeps the last of each list it converted, to
// share it with the next change, and each declaration range.
type changeConverter struct {
	d     *decoder
	pairs [][2]*ast.Term
	lists [numLists]struct {
		strs []string
		term *ast.Term
	}
	ranges                map[*plans.Range]*ast.Term
	beforeSlot, afterSlot subtree
}

func newChangeConverter(seed maphash.Seed) *changeConverter {
	return &changeConverter{d: newDecoder(nil, seed), ranges: map[*plans.Range]*ast.Term{}}
}

// change returns the term of rc: what the decoder makes of the JSON that
// plans.Encode writes for it, member for member.
func (c *changeConverter) change(rc *plans.ResourceChange) (*ast.Term, error) {
	c.pairs = c.pairs[:0]
	add := func(k, v *ast.Term) { c.pairs = append(c.pairs, [2]*ast.Term{k, v}) }
	str := func(k *ast.Term, v string, omitEmpty bool) {
		if v != "" || !omitEmpty {
			add(k, c.d.internString(validUTF8(v)))
		}
	}
	list := func(k *ast.Term, which int, vs []string) {
		if len(vs) > 0 {
			add(k, c.list(which, vs))
		}
	}
	add(keyAddress, ast.StringTerm(validUTF8(rc.Address)))
	str(keyKind, rc.Kind, false)
	str(keyName, rc.Name, false)
	if rc.Index != nil {
		t, err := c.index(rc.Index)
		if err != nil {
			return nil, err
		}
		add(keyIndex, t)
	}
	str(keyProvider, rc.Provider, false)
	str(keyAction, string(rc.Action), false)
	str(keyReason, rc.Reason, true)
	before, err := c.attrs(rc.Before, &c.beforeSlot, false)
	if err != nil {
		return nil, fmt.Errorf("before: %w", err)
	}
	add(keyBefore, before)
	after := before
	if !sameBytes(rc.After, rc.Before) { // a no-op's after is its before
		if after, err = c.attrs(rc.After, &c.afterSlot, true); err != nil {
			return nil, fmt.Errorf("after: %w", err)
		}
	}
	add(keyAfter, after)
	list(keyAfterUnknown, listAfterUnknown, rc.AfterUnknown)
	list(keyDerived, listDerived, rc.Derived)
	list(keyReplacePaths, listReplacePaths, rc.ReplacePaths)
	list(keyChangedAttributes, listChangedAttributes, rc.ChangedAttributes)
	list(keySensitiveAttributes, listSensitiveAttributes, rc.SensitiveAttributes)
	if rc.DeclRange != nil {
		t, err := c.declRange(rc.DeclRange)
		if err != nil {
			return nil, err
		}
		add(keyDeclRange, t)
	}
	if rc.PriorID != "" {
		add(keyPriorID, ast.StringTerm(validUTF8(rc.PriorID)))
	}
	str(keyConfigHash, rc.ConfigHash, true)
	list(keyDependencies, listDependencies, rc.Dependencies)
	for _, flag := range [...]struct {
		key *ast.Term
		set bool
	}{{keyCreateBeforeDestroy, rc.CreateBeforeDestroy}, {keyPreventDestroy, rc.PreventDestroy}, {keyRecordOnly, rc.RecordOnly}} {
		if flag.set {
			add(flag.key, ast.InternedTerm(true))
		}
	}
	return ast.NewTerm(ast.NewObject(c.pairs...)), nil // its keys are distinct
}

// validUTF8 returns s as its JSON encoding decodes: each byte that is not valid UTF-8
// replaced by U+FFFD, as encoding/json writes it.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// sameBytes reports whether a and b are the same bytes in memory.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// attrs decodes a change's attributes (JSON; nil is null) as a value at depth 3 of the
// plan document, shared with the identical last one; with search, with any identical
// earlier one. The befores of instances differ (each has its own ID), but the afters
// of planned creates are alike in runs (the instances of a rack), and those of
// no-ops are their befores.
func (c *changeConverter) attrs(raw json.RawMessage, slot *subtree, search bool) (*ast.Term, error) {
	if raw == nil {
		return ast.NullTerm(), nil
	}
	return c.decode(raw, slot, search)
}

// decode decodes one JSON value with the converter's decoder, at depth 3; a composite
// one through slot (see decoder.sharedAt) when slot is not nil.
func (c *changeConverter) decode(raw []byte, slot *subtree, search bool) (*ast.Term, error) {
	d := c.d
	d.data, d.pos = raw, 0
	d.skipWS()
	var t *ast.Term
	var err error
	if ch := d.peek(); (ch == '{' || ch == '[') && slot != nil {
		t, err = d.sharedAt(internDepth, slot, search)
	} else {
		t, err = d.value(internDepth)
	}
	if err != nil {
		return nil, err
	}
	d.skipWS()
	if d.pos < len(d.data) {
		return nil, d.errorf("unexpected %q after the value", d.data[d.pos])
	}
	return t, nil
}

// index converts a change's index: an int for count, a string for for_each (or what
// decoding a plan file made of them).
func (c *changeConverter) index(v any) (*ast.Term, error) {
	switch v := v.(type) {
	case string:
		return c.d.internString(validUTF8(v)), nil
	case int:
		return ast.InternedTerm(v), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return c.decode(b, nil, false)
}

// list converts one of a change's lists of names, shared with the last equal one.
func (c *changeConverter) list(which int, vs []string) *ast.Term {
	last := &c.lists[which]
	if last.term != nil && slices.Equal(last.strs, vs) {
		return last.term
	}
	terms := make([]*ast.Term, len(vs))
	for i, v := range vs {
		terms[i] = c.d.internString(validUTF8(v))
	}
	last.strs, last.term = vs, ast.NewTerm(ast.NewArray(terms...))
	return last.term
}

// declRange converts a declaration range, once per range: into the terms decoding its
// JSON (plans.AppendRangeJSON) gives, built directly (a counted block of four
// instances per rack makes 25,000 ranges in a plan of 100,000).
func (c *changeConverter) declRange(r *plans.Range) (*ast.Term, error) {
	if t, ok := c.ranges[r]; ok {
		return t, nil
	}
	pos := func(p plans.Pos) *ast.Term {
		return ast.NewTerm(ast.NewObject(
			[2]*ast.Term{keyLine, ast.InternedTerm(p.Line)},
			[2]*ast.Term{keyColumn, ast.InternedTerm(p.Column)},
			[2]*ast.Term{keyByte, ast.InternedTerm(p.Byte)}))
	}
	t := ast.NewTerm(ast.NewObject(
		[2]*ast.Term{keyFilename, c.d.internString(validUTF8(r.Filename))},
		[2]*ast.Term{keyStart, pos(r.Start)},
		[2]*ast.Term{keyEnd, pos(r.End)}))
	c.ranges[r] = t
	return t, nil
}
