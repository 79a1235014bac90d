package policies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The plan of 100,000 hardware instances is a JSON document of about 150 MB, almost all
// of it repeated: every instance of a counted resource has the same decl_range,
// attribute_ranges, derived list and dependencies, and instances in one rack have the
// same attributes. ast.ValueFromReader turns such a document into about 3 GB of terms in
// 15 s; decodeInput reads it in one pass and shares identical subtrees (by their bytes)
// and repeated strings, which is what makes checking it take well under a second.
//
// Sharing terms is safe because evaluation never mutates its input.

const (
	// internDepth is the depth from which composite values are shared: the fields of a
	// resource change (document → resource_changes → change → field), down to
	// maxInternDepth, which bounds how often a nested value's bytes are scanned.
	internDepth    = 3
	maxInternDepth = 6
	// maxInternString bounds the strings kept in the string cache, which has
	// stringCacheSize slots (a power of two).
	maxInternString = 96
	stringCacheSize = 1 << 13
	numberCacheSize = 1 << 10
	// maxDepth guards the recursion against hostile input.
	maxDepth = 1000
)

// cachedString is a slot of the string cache.
type cachedString struct {
	hash uint64
	s    string
	term *ast.Term
}

type subtree struct {
	raw  []byte
	term *ast.Term
}

// decoder converts JSON into an ast.Value.
type decoder struct {
	data []byte
	pos  int
	seed maphash.Seed
	// strs is a direct-mapped cache of string terms: repeated keys and values ("kind",
	// "create", "facility.pod") share one term, without a growing map.
	strs []cachedString
	// nums is the same for numbers (by their text): a plan's instances repeat the
	// same few figures, and its indexes count from 0 in every resource.
	nums     []cachedString
	subtrees map[uint64]subtree
	// pairs and elems are stacks of the objects and arrays being read, reused so that
	// reading a value allocates only the value.
	pairs [][2]*ast.Term
	keys  []string // the keys of pairs, as strings
	elems []*ast.Term
	// keyCache and valCache remember, per depth and position in an object, the last key
	// and string value read there: consecutive resource changes have the same keys in
	// the same order and often the same values ("hardware", "create", "sim"), which are
	// then shared without hashing.
	keyCache, valCache [cacheDepth][cacheWidth]*ast.Term
	// compCache remembers the last composite value per depth and position: when the
	// bytes at hand start with it, they are that value (a JSON value ends where its
	// bytes say), so one comparison replaces scanning and hashing.
	compCache [cacheDepth][cacheWidth]subtree

	// With plan set, the changes' attribute_ranges are kept as JSON (see planInput)
	// rather than decoded: inChanges is set while resource_changes is read, pending
	// holds the attribute_ranges of the change being read, ranges those of the changes
	// read, and lastRanges the last ones checked to be valid JSON.
	plan, inChanges     bool
	pending, lastRanges []byte
	ranges              [][]byte
	// table is the document's attribute_ranges, also kept as JSON; tableValid, when
	// not nil, delivers whether it is valid JSON.
	table      []byte
	tableValid chan bool
	result     ast.Value
}

const (
	cacheDepth = 8
	cacheWidth = 32
)

// slots returns the key and value cache slots of position i of an object at depth.
func (d *decoder) slots(depth, i int) (key, val **ast.Term, comp *subtree) {
	if depth >= cacheDepth || i >= cacheWidth {
		return nil, nil, nil
	}
	return &d.keyCache[depth][i], &d.valCache[depth][i], &d.compCache[depth][i]
}

// SyntaxError is a JSON syntax error with its position.
type SyntaxError struct {
	Line, Column int
	Msg          string
}

// Error gives the position and the problem.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// decodeInput parses a JSON document into an ast.Value, equal to what
// ast.ValueFromReader returns for it.
func decodeInput(data []byte) (ast.Value, error) {
	d, err := decode(data, false)
	if err != nil {
		return nil, err
	}
	return d.result, nil
}

// planInput is a plan document as policies read it: the JSON decoded, except that the
// attribute ranges are left out of the value and kept as JSON: the document's
// attribute_ranges (by resource, plan format 1.1) as table, and those of each resource
// change (format 1.0) as ranges[i] for resource_changes[i] (nil where it has none).
//
// Attribute ranges locate findings (Engine.locate reads the few it needs); no rule
// needs them, and in format 1.0 they were half of a large plan's bytes and a third of
// its decoding.
type planInput struct {
	value  ast.Value
	table  []byte
	ranges [][]byte
	// valid reports a syntax error in table, which is checked beside evaluation.
	valid func() error
	// resourceRanges, when set, returns the attribute ranges of the resources wanted
	// (by resource address) in place of table (see planInputOf).
	resourceRanges func(wanted map[string][]string) map[string]*ast.Term
	// kinds, when set, holds the kind of each resource change (see changeKinds).
	kinds *changeKinds
	// dropped, when set, converts the changes left out of value (see planInputOf)
	// whose addresses are wanted, for findings about them.
	dropped func(want map[string]bool) []*ast.Term
}

// decodePlanInput decodes a plan document for the policies (see planInput). The
// document must be valid JSON throughout, attribute ranges included.
func decodePlanInput(data []byte) (*planInput, error) {
	d, err := decode(data, true)
	if err != nil {
		return nil, err
	}
	p := &planInput{value: d.result, table: d.table, ranges: d.ranges, valid: func() error { return nil }}
	if ch := d.tableValid; ch != nil {
		p.valid = sync.OnceValue(func() error {
			if <-ch {
				return nil
			}
			_, err := decodeInput(data) // for the error, where it is
			if err == nil {
				err = errors.New("attribute_ranges is not valid JSON")
			}
			return err
		})
	}
	return p, nil
}

func newDecoder(data []byte, seed maphash.Seed) *decoder {
	return &decoder{data: data, seed: seed, strs: make([]cachedString, stringCacheSize),
		nums: make([]cachedString, numberCacheSize), subtrees: map[uint64]subtree{}}
}

func decode(data []byte, plan bool) (*decoder, error) {
	d := newDecoder(data, maphash.MakeSeed())
	d.plan = plan
	t, err := d.value(0)
	if err != nil {
		if d.tableValid != nil && !<-d.tableValid {
			// The attribute_ranges met before this error is not valid either: the
			// first error is reported, as one pass over the document would.
			_, err = decode(data, false)
		}
		return nil, err
	}
	d.skipWS()
	if d.pos < len(d.data) {
		return nil, d.errorf("unexpected %q after the top-level value", d.data[d.pos])
	}
	d.result = t.Value
	return d, nil
}

func (d *decoder) errorf(format string, args ...any) error {
	line, col := 1, 1
	end := min(d.pos, len(d.data))
	for _, c := range d.data[:end] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &SyntaxError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) skipWS() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (*ast.Term, error) {
	if depth > maxDepth {
		return nil, d.errorf("nesting deeper than %d", maxDepth)
	}
	d.skipWS()
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.data[d.pos]; c {
	case '{', '[':
		if depth >= internDepth && depth <= maxInternDepth {
			return d.shared(depth)
		}
		return d.composite(depth)
	case '"':
		return d.str(nil)
	case 't':
		return d.literal("true", ast.InternedTerm(true))
	case 'f':
		return d.literal("false", ast.InternedTerm(false))
	case 'n':
		return d.literal("null", ast.NullTerm())
	default:
		return d.number()
	}
}

// peek returns the byte at pos, or 0 at the end.
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// sharedAt is shared with a cache slot checked first and updated. Without search only
// the value last read at slot is reused: for values that are mostly distinct (a
// resource change's before), the search for an earlier identical one costs a scan, a
// hash and a map entry each, for nothing.
func (d *decoder) sharedAt(depth int, slot *subtree, search bool) (*ast.Term, error) {
	if slot.term != nil && bytes.HasPrefix(d.data[d.pos:], slot.raw) {
		d.pos += len(slot.raw)
		return slot.term, nil
	}
	start := d.pos
	var t *ast.Term
	var err error
	if search {
		t, err = d.shared(depth)
	} else {
		t, err = d.composite(depth)
	}
	if err != nil {
		return nil, err
	}
	*slot = subtree{raw: d.data[start:d.pos], term: t}
	return t, nil
}

// shared returns the term of the composite value at pos, reusing an earlier identical one.
func (d *decoder) shared(depth int) (*ast.Term, error) {
	start := d.pos
	end := d.skipComposite()
	if end < 0 {
		return d.composite(depth)
	}
	raw := d.data[start:end]
	h := maphash.Bytes(d.seed, raw)
	if s, ok := d.subtrees[h]; ok && bytes.Equal(s.raw, raw) {
		d.pos = end
		return s.term, nil
	}
	t, err := d.composite(depth)
	if err != nil {
		return nil, err
	}
	if _, taken := d.subtrees[h]; !taken {
		d.subtrees[h] = subtree{raw: raw, term: t}
	}
	return t, nil
}

// skipComposite returns the offset just past the object or array at pos, or -1 when it
// is not terminated; it does not validate the contents, which composite then parses.
func (d *decoder) skipComposite() int {
	level := 0
	data := d.data
	for i := d.pos; i < len(data); i++ {
		switch data[i] {
		case '{', '[':
			level++
		case '}', ']':
			level--
			if level == 0 {
				return i + 1
			}
		case '"':
			// jump to the closing quote: one not preceded by an odd run of backslashes
			for {
				j := bytes.IndexByte(data[i+1:], '"')
				if j < 0 {
					return -1
				}
				i += j + 1
				k := i - 1
				for k > d.pos && data[k] == '\\' {
					k--
				}
				if (i-1-k)%2 == 0 {
					break
				}
			}
		}
	}
	return -1
}

func (d *decoder) composite(depth int) (*ast.Term, error) {
	if d.data[d.pos] == '[' {
		return d.array(depth)
	}
	return d.object(depth)
}

func (d *decoder) object(depth int) (*ast.Term, error) {
	d.pos++ // {
	mark := len(d.pairs)
	defer func() { d.pairs, d.keys = d.pairs[:mark], d.keys[:mark] }()
	d.skipWS()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return ast.NewTerm(ast.NewObject()), nil
	}
	for i := 0; ; i++ {
		d.skipWS()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errorf("expected a string object key")
		}
		keySlot, valSlot, compSlot := d.slots(depth, i)
		k, err := d.str(keySlot)
		if err != nil {
			return nil, err
		}
		d.skipWS()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf("expected ':' after object key")
		}
		d.pos++
		d.skipWS()
		key := string(k.Value.(ast.String))
		switch {
		case depth == 2 && d.inChanges && key == "attribute_ranges":
			if err := d.keepRanges(depth + 1); err != nil {
				return nil, err
			}
		case depth == 0 && d.plan && key == "attribute_ranges":
			if err := d.keepTable(); err != nil {
				return nil, err
			}
		case depth == 0 && d.plan && key == "resource_changes":
			d.inChanges, d.ranges = true, nil
			v, err := d.value(depth + 1)
			d.inChanges = false
			if err != nil {
				return nil, err
			}
			d.pairs = append(d.pairs, [2]*ast.Term{k, v})
			d.keys = append(d.keys, key)
		default:
			var v *ast.Term
			switch c := d.peek(); {
			case c == '"':
				v, err = d.str(valSlot)
			case (c == '{' || c == '[') && compSlot != nil && depth+1 >= internDepth && depth+1 <= maxInternDepth:
				v, err = d.sharedAt(depth+1, compSlot, true)
			default:
				v, err = d.value(depth + 1)
			}
			if err != nil {
				return nil, err
			}
			d.pairs = append(d.pairs, [2]*ast.Term{k, v})
			d.keys = append(d.keys, key)
		}
		d.skipWS()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unexpected end of input in an object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return ast.NewTerm(newObject(d.pairs[mark:], d.keys[mark:])), nil
		default:
			return nil, d.errorf("expected ',' or '}' in an object, found %q", d.data[d.pos])
		}
	}
}

// keepRanges reads the value at pos, a change's attribute_ranges, into pending as JSON,
// checked to be valid as decoding it would (consecutive instances of a resource have
// the same ranges, which are checked once).
func (d *decoder) keepRanges(depth int) error {
	start := d.pos
	end := -1
	if c := d.peek(); c == '{' || c == '[' {
		end = d.skipComposite()
	}
	if end >= 0 {
		raw := d.data[start:end:end]
		if bytes.Equal(raw, d.lastRanges) || validJSON(raw, depth) {
			d.pos, d.pending, d.lastRanges = end, raw, raw
			return nil
		}
	}
	// A scalar, or not valid: decoding it reports the error where it is.
	if _, err := d.value(depth); err != nil {
		return err
	}
	d.pending = d.data[start:d.pos:d.pos]
	return nil
}

// keepTable reads the document's attribute_ranges into table as JSON. A plan's is
// tens of megabytes, so it is checked to be valid JSON beside the rest of the work
// (tableValid delivers the verdict, that of any attribute_ranges before it included);
// an object that does not even end is decoded for its error at once.
func (d *decoder) keepTable() error {
	start := d.pos
	if d.peek() == '{' {
		if end := d.skipComposite(); end >= 0 {
			raw := d.data[start:end:end]
			valid, earlier := make(chan bool, 1), d.tableValid
			go func() { valid <- (earlier == nil || <-earlier) && validJSON(raw, 1) }()
			d.table, d.tableValid, d.pos = raw, valid, end
			return nil
		}
	}
	if _, err := d.value(1); err != nil {
		return err
	}
	d.table = d.data[start:d.pos:d.pos]
	return nil
}

// validJSON reports whether raw, a value at depth in its document, is JSON that
// decoding would accept: valid, and no value in it deeper than maxDepth (json.Valid
// allows 10,000 levels).
func validJSON(raw []byte, depth int) bool {
	if !json.Valid(raw) {
		return false
	}
	if depth+bytes.Count(raw, []byte{'{'})+bytes.Count(raw, []byte{'['}) <= maxDepth {
		return true // not enough brackets to nest too deep (most values)
	}
	level, inString, escaped := 0, false, false
	for i, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			level++
			deepest := depth + level - 1 // the object or array; its elements one deeper
			if j := skipSpace(raw, i+1); j < len(raw) && raw[j] != '}' && raw[j] != ']' {
				deepest++
			}
			if deepest > maxDepth {
				return false
			}
		case c == '}' || c == ']':
			level--
		}
	}
	return true
}

// skipSpace returns the offset of the first byte from i that is not JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// newObject builds an object from pairs with keys as strings (NewObject copies the
// pairs but assumes unique keys); of duplicate keys the last wins, as in encoding/json.
func newObject(pairs [][2]*ast.Term, keys []string) ast.Object {
	dup := false
	if len(keys) <= 24 { // comparing pairs is cheaper than a map for the usual objects
		for i := 1; i < len(keys) && !dup; i++ {
			for j := range i {
				if len(keys[i]) == len(keys[j]) && keys[i] == keys[j] {
					dup = true
					break
				}
			}
		}
	} else {
		seen := make(map[string]struct{}, len(keys))
		for _, k := range keys {
			if _, dup = seen[k]; dup {
				break
			}
			seen[k] = struct{}{}
		}
	}
	if !dup {
		return ast.NewObject(pairs...)
	}
	last := map[string]int{}
	for i, k := range keys {
		last[k] = i
	}
	uniq := make([][2]*ast.Term, 0, len(last))
	for i, kv := range pairs {
		if last[keys[i]] == i {
			uniq = append(uniq, kv)
		}
	}
	return ast.NewObject(uniq...)
}

func (d *decoder) array(depth int) (*ast.Term, error) {
	if depth == 1 {
		if t, ok := d.parallelArray(depth); ok {
			return t, nil
		}
	}
	d.pos++ // [
	mark := len(d.elems)
	defer func() { d.elems = d.elems[:mark] }()
	d.skipWS()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return ast.NewTerm(ast.NewArray()), nil
	}
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if depth == 1 && d.inChanges {
			d.ranges, d.pending = append(d.ranges, d.pending), nil
		}
		d.elems = append(d.elems, v)
		d.skipWS()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unexpected end of input in an array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return ast.NewTerm(ast.NewArray(slices.Clone(d.elems[mark:])...)), nil
		default:
			return nil, d.errorf("expected ',' or ']' in an array, found %q", d.data[d.pos])
		}
	}
}

// parallelArrayBytes is the size from which a top-level array (the plan's
// resource_changes) is decoded on every core.
const parallelArrayBytes = 8 << 20

// parallelArray decodes the large array of objects or arrays at pos on every core, each
// goroutine with its own caches, and reports false (pos unchanged) when the array is
// small, holds other values, or is not valid: the one-pass decode then reads it and
// reports any error where it is.
func (d *decoder) parallelArray(depth int) (*ast.Term, bool) {
	workers := runtime.GOMAXPROCS(0)
	start := d.pos
	if workers < 2 || len(d.data)-start < parallelArrayBytes {
		return nil, false
	}
	defer func() { d.pos = start }() // unless decoded, below
	elems, ends, end, ok := lineElements(d.data, start)
	if !ok {
		elems, ends, end, ok = d.scanElements(start)
	}
	if !ok || end-start < parallelArrayBytes {
		return nil, false
	}
	terms := make([]*ast.Term, len(elems))
	var ranges [][]byte
	if d.inChanges {
		ranges = make([][]byte, len(elems))
	}
	failed := make([]bool, workers)
	per := (len(elems) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, len(elems))
		if lo >= hi {
			continue
		}
		wg.Go(func() {
			sub := newDecoder(d.data, d.seed)
			sub.plan, sub.inChanges = d.plan, d.inChanges
			for i := lo; i < hi; i++ {
				sub.pos = elems[i]
				t, err := sub.value(depth + 1)
				if err != nil || (ends != nil && sub.pos != ends[i]) {
					failed[w] = true
					return
				}
				terms[i] = t
				if ranges != nil {
					ranges[i], sub.pending = sub.pending, nil
				}
			}
		})
	}
	wg.Wait()
	if slices.Contains(failed, true) {
		return nil, false
	}
	start = end // the deferred reset leaves pos past the array
	if d.inChanges {
		d.ranges = ranges
	}
	return ast.NewTerm(ast.NewArray(terms...)), true
}

// lineElements finds the elements of the array at start when it is laid out as fabrica
// writes plans, one element per line ("[\n{…},\n{…}\n]…"), with a search for newlines
// instead of a scan of every byte. It returns where each element starts and ends (as
// the line says: the decode must end each one exactly there) and where the array ends;
// false when the layout is any other.
func lineElements(data []byte, start int) (elems, ends []int, end int, ok bool) {
	if start+1 >= len(data) || data[start+1] != '\n' {
		return nil, nil, 0, false
	}
	pos := start + 2
	for pos < len(data) {
		nl := bytes.IndexByte(data[pos:], '\n')
		if nl < 0 {
			nl = len(data) - pos // the last line
		}
		line := data[pos : pos+nl]
		if len(line) > 0 && line[0] == ']' { // what follows it belongs to the enclosing value
			if len(elems) == 0 || data[ends[len(ends)-1]] != '\n' {
				return nil, nil, 0, false // "[\n]", or a comma before the ]
			}
			return elems, ends, pos + 1, true
		}
		if len(line) < 2 || line[0] != '{' {
			return nil, nil, 0, false
		}
		last := len(line) - 1
		if line[last] == ',' {
			last--
		}
		if line[last] != '}' {
			return nil, nil, 0, false
		}
		elems, ends = append(elems, pos), append(ends, pos+last+1)
		pos += nl + 1
	}
	return nil, nil, 0, false
}

// scanElements finds the elements of the array at start, and its end, in one pass.
func (d *decoder) scanElements(start int) (elems, ends []int, end int, ok bool) {
	d.pos = start + 1
	for {
		d.skipWS()
		if c := d.peek(); c != '{' && c != '[' {
			return nil, nil, 0, false
		}
		elems = append(elems, d.pos)
		next := d.skipComposite()
		if next < 0 {
			return nil, nil, 0, false
		}
		d.pos = next
		d.skipWS()
		if c := d.peek(); c == ',' {
			d.pos++
			continue
		} else if c == ']' {
			return elems, nil, d.pos + 1, true
		}
		return nil, nil, 0, false
	}
}

// str reads the string at pos (which is a quote) and returns its term, shared with
// earlier equal strings when short; slot, when not nil, is a cache slot checked first
// and updated.
func (d *decoder) str(slot **ast.Term) (*ast.Term, error) {
	start := d.pos
	plain := true
	i := start + 1
	for ; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			i++
			continue
		}
		if c < 0x20 {
			d.pos = i
			return nil, d.errorf("control character in a string")
		}
		if c >= utf8.RuneSelf {
			plain = false
		}
	}
	if i >= len(d.data) {
		d.pos = start
		return nil, d.errorf("unterminated string")
	}
	d.pos = i + 1
	raw := d.data[start+1 : i]
	if plain || (bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw)) {
		if slot == nil {
			return d.internBytes(raw), nil
		}
		if t := *slot; t != nil && string(t.Value.(ast.String)) == string(raw) {
			return t, nil
		}
		t := d.internBytes(raw)
		*slot = t
		return t, nil
	}
	var s string
	if err := json.Unmarshal(d.data[start:i+1], &s); err != nil {
		d.pos = start
		return nil, d.errorf("invalid string: %v", err)
	}
	return d.internBytes([]byte(s)), nil
}

// internBytes returns a term for the string b, shared with an earlier equal string
// when the cache still holds it.
func (d *decoder) internBytes(b []byte) *ast.Term {
	if len(b) > maxInternString {
		return ast.StringTerm(string(b))
	}
	h := maphash.Bytes(d.seed, b)
	c := &d.strs[h&(stringCacheSize-1)]
	if c.term != nil && c.hash == h && c.s == string(b) {
		return c.term
	}
	s := string(b)
	*c = cachedString{hash: h, s: s, term: ast.StringTerm(s)}
	return c.term
}

// internString is internBytes for a string.
func (d *decoder) internString(s string) *ast.Term {
	if len(s) > maxInternString {
		return ast.StringTerm(s)
	}
	h := maphash.String(d.seed, s)
	c := &d.strs[h&(stringCacheSize-1)]
	if c.term == nil || c.hash != h || c.s != s {
		*c = cachedString{hash: h, s: s, term: ast.StringTerm(s)}
	}
	return c.term
}

func (d *decoder) literal(word string, t *ast.Term) (*ast.Term, error) {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(word)) {
		return nil, d.errorf("invalid literal (expected %s)", word)
	}
	d.pos += len(word)
	return t, nil
}

// number reads a JSON number; its text is kept as is, as json.Number does.
func (d *decoder) number() (*ast.Term, error) {
	start := d.pos
	data := d.data
	i := start
	digits := func() int {
		n := 0
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	if i < len(data) && data[i] == '0' {
		i++
	} else if digits() == 0 {
		return nil, d.errorf("invalid character %q looking for a value", data[start])
	}
	if i < len(data) && data[i] == '.' {
		i++
		if digits() == 0 {
			d.pos = i
			return nil, d.errorf("invalid number: digits expected after '.'")
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if digits() == 0 {
			d.pos = i
			return nil, d.errorf("invalid number: digits expected in the exponent")
		}
	}
	d.pos = i
	raw := data[start:i]
	h := maphash.Bytes(d.seed, raw)
	c := &d.nums[h&(numberCacheSize-1)]
	if c.term != nil && c.hash == h && c.s == string(raw) {
		return c.term, nil
	}
	n := string(raw)
	*c = cachedString{hash: h, s: n, term: ast.NumberTerm(json.Number(n))}
	return c.term, nil
}
