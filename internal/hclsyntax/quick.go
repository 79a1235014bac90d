// fabrica: this file is not part of upstream hclsyntax. It parses, without making
// tokens, the plain subset of the syntax that generated and most hand-written
// configurations use, and builds exactly the tree that LexConfig and the parser build
// from the same source; ParseConfig falls back to them for anything else.

package hclsyntax

import (
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// quickParseConfig parses src as a configuration file that starts at hcl.InitialPos,
// or reports false when src steps outside the subset it knows:
//
//   - printable ASCII, with spaces, tabs, LF and CR LF; `#` and `//` comments,
//     which may hold any other UTF-8 when a newline ends them;
//   - blocks with quoted or bare labels, `{` ending its line (or `{}`) and `}` on a
//     line of its own or ending it;
//   - arguments whose value is a number, a quoted string without escapes or
//     template sequences, true, false, null, a traversal of attribute names
//     (facility.main), a tuple of those or a call of a function with those as its
//     arguments.
//
// Everything else (operators, namespaced functions, expanded arguments, indexes, splats, templates, heredocs,
// objects, single-line blocks, `/* */` comments, syntax errors) ends the attempt, so
// that the full parser gives the tree and every diagnostic. An attempt gives up at the
// first byte it does not know, having allocated in proportion to the source
// (slabFor).
//
// Lexing and parsing build about twenty times the source in tokens and nodes; this
// makes no tokens, takes the nodes from slabs and shares the strings and values that
// repeat (argument names, device types, small numbers).
func quickParseConfig(src []byte, filename string) (*Body, bool) {
	return quickParseRecycling(src, filename, nil)
}

// quickParseRecycling is quickParseConfig taking its blocks, bodies and arguments
// from r (nil: none) when it has any.
func quickParseRecycling(src []byte, filename string, r *Recycler) (*Body, bool) {
	q := quickParser{
		recycler: r,
		src:      src,
		filename: filename,
		line:     1,
		slab:     slabFor(src),
		// Sized for a generated file's distinct names (its blocks' names as
		// references) and strings (its racks): growing them was a tenth of parsing.
		names: make(map[string]string, len(src)/256),
		strs:  make(map[string]cty.Value, len(src)/1024),
		nums:  map[string]cty.Value{},
	}
	mark := r.mark()
	body, ok := q.body(nil)
	if !ok {
		r.recycleSince(mark) // the attempt's nodes: nothing refers to them
	}
	return body, ok
}

type quickParser struct {
	recycler *Recycler // see ParseConfigRecycling
	src      []byte
	filename string
	i        int // the next byte
	line     int
	lineAt   int // where the current line starts
	slab     int // see slabFor

	names  map[string]string    // identifiers
	recent [64]string           // see intern
	strs   map[string]cty.Value // string literals' values, by content
	nums   map[string]cty.Value // number literals' values, by text

	// Work space for the items of bodies and tuples being parsed, nested ones above
	// the outer ones'.
	items []*Attribute
	elems []Expression

	attrs  []Attribute
	blocks []Block
	bodies []Body
	lits   []LiteralValueExpr
	tmpls  []TemplateExpr
	travs  []ScopeTraversalExpr
	tuples []TupleConsExpr
	// refTuples and refElems are ReferenceTupleExprs and their elements; refs is the
	// work space of the one being parsed.
	refTuples []ReferenceTupleExpr
	refElems  []ReferenceElem
	refs      []ReferenceElem
	calls     []FunctionCallExpr
	exprs     []Expression
	steps     []hcl.Traverser
	labels    []string
	ranges    []hcl.Range
}

// slabFor is how many nodes of a kind are allocated at once for a source: up to 256,
// fewer for a small source, so that an attempt on a small file that ends outside the
// subset costs little, and a node kept alive keeps few others.
func slabFor(src []byte) int { return min(256, max(1, len(src)/256)) }

func take[T any](s *[]T, slab int) *T {
	if len(*s) == 0 {
		*s = make([]T, slab)
	}
	p := &(*s)[0]
	*s = (*s)[1:]
	return p
}

// takeN returns n elements whose slice cannot grow into its neighbours'.
func takeN[T any](s *[]T, n, slab int) []T {
	if n > slab/8 {
		return make([]T, n)
	}
	if len(*s) < n {
		*s = make([]T, slab)
	}
	out := (*s)[:n:n]
	*s = (*s)[n:]
	return out
}

func (q *quickParser) pos() hcl.Pos {
	return hcl.Pos{Line: q.line, Column: q.i - q.lineAt + 1, Byte: q.i}
}

func (q *quickParser) rangeFrom(start hcl.Pos) hcl.Range {
	return hcl.Range{Filename: q.filename, Start: start, End: q.pos()}
}

// symbol eats the one-byte token here (an equals sign, a bracket or a brace) and
// returns its range.
func (q *quickParser) symbol() hcl.Range {
	start := q.pos()
	q.i++
	return q.rangeFrom(start)
}

func (q *quickParser) at(c byte) bool { return q.i < len(q.src) && q.src[q.i] == c }

func (q *quickParser) atEOF() bool { return q.i >= len(q.src) }

func (q *quickParser) spaces() {
	for q.i < len(q.src) && (q.src[q.i] == ' ' || q.src[q.i] == '\t') {
		q.i++
	}
}

// newline eats an LF or CR LF.
func (q *quickParser) newline() bool {
	switch {
	case q.at('\n'):
		q.i++
	case q.at('\r') && q.i+1 < len(q.src) && q.src[q.i+1] == '\n':
		q.i += 2
	default:
		return false
	}
	q.line++
	q.lineAt = q.i
	return true
}

func (q *quickParser) atComment() bool {
	return q.at('#') || q.at('/') && q.i+1 < len(q.src) && q.src[q.i+1] == '/'
}

// comment eats a line comment and the newline that ends it, if any. Any UTF-8 may
// be in a comment that ends with a newline, since positions start again on the next
// line; one that ends the source must be plain ASCII, for the column where the source
// ends.
func (q *quickParser) comment() bool {
	start, plain := q.i, true
	for q.i < len(q.src) {
		switch c := q.src[q.i]; {
		case c == '\n' || c == '\r':
			// Invalid UTF-8 could make the newline part of a grapheme cluster.
			return (plain || utf8.Valid(q.src[start:q.i])) && q.newline()
		case c != '\t' && (c < ' ' || c >= 0x7f):
			plain = false
		}
		q.i++
	}
	return plain
}

// endOfLine eats what may end an argument or a block: a newline, or a comment and
// its newline, or nothing at the end of the source.
func (q *quickParser) endOfLine() bool {
	q.spaces()
	switch {
	case q.atEOF():
		return true
	case q.atComment():
		return q.comment()
	default:
		return q.newline()
	}
}

// blank eats spaces, newlines and comments, as the parser ignores them between a
// tuple's items.
func (q *quickParser) blank() bool {
	for {
		q.spaces()
		switch {
		case q.atComment():
			if !q.comment() {
				return false
			}
		case q.newline():
		default:
			return true
		}
	}
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '-' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (q *quickParser) atIdent() bool { return q.i < len(q.src) && isIdentStart(q.src[q.i]) }

// ident reads an identifier (the caller has checked that one starts here) and
// returns it with its range.
func (q *quickParser) ident() (string, hcl.Range) {
	start := q.pos()
	q.i++
	for q.i < len(q.src) && isIdentByte(q.src[q.i]) {
		q.i++
	}
	return q.intern(q.src[start.Byte:q.i]), q.rangeFrom(start)
}

// intern returns b as a string shared with the other times the file has it. The
// names an argument or a reference starts with repeat every few lines (facility,
// device_type, hardware): a small cache of recent names answers most without the map
// of every name.
func (q *quickParser) intern(b []byte) string {
	slot := &q.recent[(len(b)*31+int(b[0])*7+int(b[len(b)-1]))%len(q.recent)]
	if *slot == string(b) {
		return *slot
	}
	name, ok := q.names[string(b)]
	if !ok {
		name = string(b)
		q.names[name] = name
	}
	*slot = name
	return name
}

// startOfTopBody is where the parser's first token starts: the first byte that is
// not a space, unless that begins a comment that runs to the end of the source,
// which the parser skips.
func (q *quickParser) startOfTopBody() hcl.Pos {
	q.spaces()
	start := q.pos()
	if q.atComment() {
		j := q.i
		for j < len(q.src) && q.src[j] != '\n' {
			j++
		}
		if j == len(q.src) {
			start.Column += j - q.i
			start.Byte = j
		}
	}
	q.i, q.lineAt = 0, 0
	return start
}

// body parses a body's items up to its closing brace, or to the end of the source
// when open is nil (the file's body).
func (q *quickParser) body(open *hcl.Range) (*Body, bool) {
	var start hcl.Pos
	if open == nil {
		start = q.startOfTopBody()
	} else {
		start = open.Start
	}
	mark := len(q.items)
	blocks := Blocks{}
	var end hcl.Range
	for {
		q.spaces()
		switch {
		case q.atEOF():
			if open != nil {
				return nil, false
			}
			end = q.rangeFrom(q.pos())
		case q.at('}'):
			if open == nil {
				return nil, false
			}
			end = q.symbol()
		case q.atComment():
			if !q.comment() {
				return nil, false
			}
			continue
		case q.newline():
			continue
		case q.atIdent():
			ok := q.item(&blocks)
			if !ok {
				return nil, false
			}
			continue
		default:
			return nil, false
		}
		break
	}
	attrs := q.attributes(len(q.items) - mark)
	for _, a := range q.items[mark:] {
		if _, dup := attrs[a.Name]; dup {
			return nil, false // the parser reports it
		}
		attrs[a.Name] = a
	}
	clear(q.items[mark:])
	q.items = q.items[:mark]
	b := takeRecycled(&q.bodies, q.slab, q.recycler.bodySlabs())
	*b = Body{
		Attributes: attrs,
		Blocks:     blocks,
		SrcRange:   hcl.Range{Filename: q.filename, Start: start, End: end.End},
		EndRange:   hcl.Range{Filename: q.filename, Start: end.End, End: end.End},
	}
	return b, true
}

// item parses an argument or a block, whose name starts here.
func (q *quickParser) item(blocks *Blocks) bool {
	name, nameRange := q.ident()
	q.spaces()
	if q.at('=') {
		if q.i+1 < len(q.src) && (q.src[q.i+1] == '=' || q.src[q.i+1] == '>') {
			return false
		}
		eqRange := q.symbol()
		q.spaces()
		expr, ok := q.expr()
		if !ok {
			return false
		}
		a := takeRecycled(&q.attrs, q.slab, q.recycler.attrSlabs())
		*a = Attribute{
			Name:        name,
			Expr:        expr,
			SrcRange:    hcl.Range{Filename: q.filename, Start: nameRange.Start, End: expr.Range().End},
			NameRange:   nameRange,
			EqualsRange: eqRange,
		}
		q.items = append(q.items, a)
		return q.endOfLine()
	}
	b, ok := q.block(name, nameRange)
	if !ok {
		return false
	}
	*blocks = append(*blocks, b)
	return true
}

func (q *quickParser) block(typ string, typeRange hcl.Range) (*Block, bool) {
	var labels [4]string
	var labelRanges [4]hcl.Range
	n := 0
	for !q.at('{') {
		if n == len(labels) {
			return nil, false
		}
		switch {
		case q.at('"'):
			start := q.pos()
			b, _, ok := q.quoted()
			if !ok {
				return nil, false
			}
			// A label names one block: nothing to share it with.
			labels[n], labelRanges[n] = string(b), q.rangeFrom(start)
		case q.atIdent():
			labels[n], labelRanges[n] = q.ident()
		default:
			return nil, false
		}
		n++
		q.spaces()
	}
	open := q.symbol()
	q.spaces()
	var body *Body
	var ok bool
	if q.at('}') {
		close := q.symbol()
		body = takeRecycled(&q.bodies, q.slab, q.recycler.bodySlabs())
		*body = Body{
			Attributes: q.attributes(0),
			Blocks:     Blocks{},
			SrcRange:   hcl.RangeBetween(open, close),
			EndRange:   hcl.Range{Filename: q.filename, Start: close.End, End: close.End},
		}
	} else {
		if !q.atEOF() && !q.atComment() && !q.at('\n') && !q.at('\r') {
			return nil, false // a single-line block
		}
		if body, ok = q.body(&open); !ok {
			return nil, false
		}
	}
	// The closing brace, one byte, ends where the body's end range sits.
	closeRange := hcl.Range{Filename: q.filename, Start: body.EndRange.Start, End: body.EndRange.End}
	closeRange.Start.Column--
	closeRange.Start.Byte--
	if !q.endOfLine() {
		return nil, false
	}
	b := takeRecycled(&q.blocks, q.slab, q.recycler.blockSlabs())
	*b = Block{
		Type:            typ,
		Body:            body,
		TypeRange:       typeRange,
		OpenBraceRange:  open,
		CloseBraceRange: closeRange,
	}
	if n > 0 {
		b.Labels = takeN(&q.labels, n, q.slab)
		copy(b.Labels, labels[:n])
		b.LabelRanges = takeN(&q.ranges, n, q.slab)
		copy(b.LabelRanges, labelRanges[:n])
	}
	return b, true
}

// quoted reads a quoted string without escapes or template sequences; it returns
// the string and the range between the quotes.
func (q *quickParser) quoted() ([]byte, hcl.Range, bool) {
	q.i++ // the opening quote
	start := q.pos()
	for {
		if q.atEOF() {
			return nil, hcl.Range{}, false
		}
		c := q.src[q.i]
		if c == '"' {
			break
		}
		if c < ' ' || c >= 0x7f || c == '\\' || c == '$' || c == '%' {
			return nil, hcl.Range{}, false
		}
		q.i++
	}
	inside := q.rangeFrom(start)
	b := q.src[start.Byte:q.i]
	q.i++ // the closing quote
	return b, inside, true
}

// expr parses an expression of the subset; what follows it is checked by the caller.
func (q *quickParser) expr() (Expression, bool) {
	if q.atEOF() {
		return nil, false
	}
	switch c := q.src[q.i]; {
	case isDigit(c):
		return q.number()
	case c == '"':
		return q.template()
	case c == '[':
		return q.tuple()
	case isIdentStart(c):
		return q.traversal()
	}
	return nil, false
}

func (q *quickParser) number() (Expression, bool) {
	start := q.pos()
	q.digits()
	if q.at('.') && q.i+1 < len(q.src) && isDigit(q.src[q.i+1]) {
		q.i++
		q.digits()
	}
	if q.at('e') || q.at('E') {
		j := q.i + 1
		if j < len(q.src) && (q.src[j] == '+' || q.src[j] == '-') {
			j++
		}
		if j < len(q.src) && isDigit(q.src[j]) {
			q.i = j
			q.digits()
		}
	}
	text := q.src[start.Byte:q.i]
	v, ok := q.nums[string(text)]
	if !ok {
		var err error
		if v, err = cty.ParseNumberVal(string(text)); err != nil {
			return nil, false
		}
		q.nums[string(text)] = v
	}
	lit := take(&q.lits, q.slab)
	*lit = LiteralValueExpr{Val: v, SrcRange: q.rangeFrom(start)}
	return lit, true
}

func (q *quickParser) digits() {
	for q.i < len(q.src) && isDigit(q.src[q.i]) {
		q.i++
	}
}

func (q *quickParser) template() (Expression, bool) {
	start := q.pos()
	s, inside, ok := q.quoted()
	if !ok {
		return nil, false
	}
	t := take(&q.tmpls, q.slab)
	*t = TemplateExpr{SrcRange: q.rangeFrom(start)}
	if len(s) == 0 {
		// The template parser's part for no characters sits after the closing quote.
		inside = hcl.Range{Filename: q.filename, Start: t.SrcRange.End, End: t.SrcRange.End}
	}
	v, ok := q.strs[string(s)]
	if !ok {
		key := string(s)
		v = cty.StringVal(key)
		q.strs[key] = v
	}
	lit := take(&q.lits, q.slab)
	*lit = LiteralValueExpr{Val: v, SrcRange: inside}
	t.Parts = takeN(&q.exprs, 1, q.slab)
	t.Parts[0] = lit
	return t, true
}

func (q *quickParser) tuple() (Expression, bool) {
	open := q.symbol()
	if r, ok := q.referenceTuple(open); ok {
		return r, true
	}
	elems, close, ok := q.list(']')
	if !ok {
		return nil, false
	}
	t := take(&q.tuples, q.slab)
	*t = TupleConsExpr{
		Exprs:     elems,
		SrcRange:  hcl.RangeBetween(open, close),
		OpenRange: open,
	}
	return t, true
}

// call parses a function call's parentheses and arguments, after its name.
func (q *quickParser) call(name string, nameRange hcl.Range) (Expression, bool) {
	open := q.symbol()
	args, close, ok := q.list(')')
	if !ok {
		return nil, false
	}
	f := take(&q.calls, q.slab)
	*f = FunctionCallExpr{
		Name:            name,
		Args:            args,
		NameRange:       nameRange,
		OpenParenRange:  open,
		CloseParenRange: close,
	}
	return f, true
}

// list parses the comma-separated items of a tuple or of a function call's
// arguments, after the opening bracket, up to closer; newlines and comments may
// come between them. It returns nil for no items, and the closer's range.
func (q *quickParser) list(closer byte) ([]Expression, hcl.Range, bool) {
	mark := len(q.elems)
	ok := q.listItems(closer, func(first bool) bool {
		if closer == ']' && first && q.atKeyword("for") {
			return false
		}
		e, ok := q.expr()
		if ok {
			q.elems = append(q.elems, e)
		}
		return ok
	})
	if !ok {
		return nil, hcl.Range{}, false
	}
	close := q.symbol()
	var items []Expression
	if n := len(q.elems) - mark; n > 0 {
		items = takeN(&q.exprs, n, q.slab)
		copy(items, q.elems[mark:])
		clear(q.elems[mark:])
		q.elems = q.elems[:mark]
	}
	return items, close, true
}

// listItems reads the items of a list up to its closer (not taken), separated by commas,
// a trailing one allowed, with blank lines and comments between them: item reads one
// (first tells the first).
func (q *quickParser) listItems(closer byte, item func(first bool) bool) bool {
	for first := true; ; first = false {
		if !q.blank() {
			return false
		}
		if q.at(closer) {
			return true
		}
		if !item(first) || !q.blank() {
			return false
		}
		if q.at(closer) {
			return true
		}
		if !q.at(',') {
			return false
		}
		q.i++
	}
}

// atKeyword reports whether the identifier word starts here.
func (q *quickParser) atKeyword(word string) bool {
	j := q.i + len(word)
	return j <= len(q.src) && string(q.src[q.i:j]) == word && (j == len(q.src) || !isIdentByte(q.src[j]))
}

// traversal parses true, false, null or a name followed by attribute names.
func (q *quickParser) traversal() (Expression, bool) {
	name, rootRange := q.ident()
	var keyword cty.Value
	switch name {
	case "true":
		keyword = cty.True
	case "false":
		keyword = cty.False
	case "null":
		keyword = cty.NullVal(cty.DynamicPseudoType)
	}
	if keyword != cty.NilVal {
		lit := take(&q.lits, q.slab)
		*lit = LiteralValueExpr{Val: keyword, SrcRange: rootRange}
		return lit, true
	}
	if q.spaces(); q.at('(') {
		return q.call(name, rootRange)
	}
	n := 1
	for j := q.i; j+1 < len(q.src) && q.src[j] == '.' && isIdentStart(q.src[j+1]); n++ {
		for j += 2; j < len(q.src) && isIdentByte(q.src[j]); j++ {
		}
	}
	steps := takeN(&q.steps, n, q.slab)
	steps[0] = hcl.TraverseRoot{Name: name, SrcRange: rootRange}
	end := rootRange.End
	for k := 1; k < n; k++ {
		dot := q.pos()
		q.i++
		attr, attrRange := q.ident()
		steps[k] = hcl.TraverseAttr{Name: attr, SrcRange: hcl.Range{Filename: q.filename, Start: dot, End: attrRange.End}}
		end = attrRange.End
	}
	t := take(&q.travs, q.slab)
	*t = ScopeTraversalExpr{
		Traversal: steps,
		SrcRange:  hcl.Range{Filename: q.filename, Start: rootRange.Start, End: end},
	}
	return t, true
}
