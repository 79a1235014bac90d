// fabrica: this file is not part of upstream hclsyntax. It holds the node the quick
// parser makes for a tuple of plain references, such as a fabric's endpoints.

package hclsyntax

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// ReferenceTupleExpr is a tuple constructor whose every element is a reference of two
// names, root.attr, written without spaces ([hardware.n1, hardware.n2]): what the
// quick parser makes where upstream makes a TupleConsExpr of ScopeTraversalExprs. It
// holds each element as its two names and where it starts, 56 bytes instead of the
// 280 of a ScopeTraversalExpr and its two steps; a list of 4,096 endpoints is 4,096
// of them. Everything else sees the TupleConsExpr that Tuple makes (Value, walks,
// Variables, ExprList); code that reads many references uses Elems.
type ReferenceTupleExpr struct {
	Elems []ReferenceElem

	SrcRange  hcl.Range
	OpenRange hcl.Range
}

// ReferenceElem is one element of a ReferenceTupleExpr: Root.Attr, starting at Start.
type ReferenceElem struct {
	Root, Attr string
	Start      hcl.Pos
}

// advance returns p moved n bytes along its line (the subset is ASCII).
func advance(p hcl.Pos, n int) hcl.Pos {
	return hcl.Pos{Line: p.Line, Column: p.Column + n, Byte: p.Byte + n}
}

// Range returns the element's range in the named file.
func (r ReferenceElem) Range(filename string) hcl.Range {
	return hcl.Range{Filename: filename, Start: r.Start, End: advance(r.Start, len(r.Root)+1+len(r.Attr))}
}

// Traversal returns the element as the parser would: a root step and an attribute
// step, with their ranges.
func (r ReferenceElem) Traversal(filename string) hcl.Traversal {
	dot := advance(r.Start, len(r.Root))
	return hcl.Traversal{
		hcl.TraverseRoot{Name: r.Root, SrcRange: hcl.Range{Filename: filename, Start: r.Start, End: dot}},
		hcl.TraverseAttr{Name: r.Attr, SrcRange: hcl.Range{Filename: filename, Start: dot, End: advance(dot, 1+len(r.Attr))}},
	}
}

// Expr returns element i as the ScopeTraversalExpr the parser would make.
func (e *ReferenceTupleExpr) Expr(i int) *ScopeTraversalExpr {
	r := e.Elems[i]
	return &ScopeTraversalExpr{Traversal: r.Traversal(e.SrcRange.Filename), SrcRange: r.Range(e.SrcRange.Filename)}
}

// Tuple returns the TupleConsExpr the parser would make (new nodes on every call).
func (e *ReferenceTupleExpr) Tuple() *TupleConsExpr {
	exprs := make([]Expression, len(e.Elems))
	for i := range e.Elems {
		exprs[i] = e.Expr(i)
	}
	return &TupleConsExpr{Exprs: exprs, SrcRange: e.SrcRange, OpenRange: e.OpenRange}
}

func (e *ReferenceTupleExpr) walkChildNodes(w internalWalkFunc) {
	for i := range e.Elems {
		w(e.Expr(i))
	}
}

func (e *ReferenceTupleExpr) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	return e.Tuple().Value(ctx)
}

func (e *ReferenceTupleExpr) Range() hcl.Range      { return e.SrcRange }
func (e *ReferenceTupleExpr) StartRange() hcl.Range { return e.OpenRange }

// Variables returns each element's traversal.
func (e *ReferenceTupleExpr) Variables() []hcl.Traversal {
	out := make([]hcl.Traversal, len(e.Elems))
	for i, r := range e.Elems {
		out[i] = r.Traversal(e.SrcRange.Filename)
	}
	return out
}

// ExprList implements hcl.ExprList.
func (e *ReferenceTupleExpr) ExprList() []hcl.Expression { return e.Tuple().ExprList() }

// referenceTuple parses, after the opening bracket at open, a tuple whose elements are
// all references of two names, or reports false, having moved nothing, for the
// general list to parse it.
func (q *quickParser) referenceTuple(open hcl.Range) (*ReferenceTupleExpr, bool) {
	i, line, lineAt := q.i, q.line, q.lineAt
	restore := func() (*ReferenceTupleExpr, bool) {
		q.i, q.line, q.lineAt = i, line, lineAt
		q.refs = q.refs[:0]
		return nil, false
	}
	ok := q.listItems(']', func(bool) bool {
		r, ok := q.reference()
		if ok {
			q.refs = append(q.refs, r)
		}
		return ok
	})
	if !ok {
		return restore()
	}
	if len(q.refs) == 0 {
		return restore() // [] is a TupleConsExpr without elements
	}
	close := q.symbol()
	elems := takeN(&q.refElems, len(q.refs), q.slab)
	copy(elems, q.refs)
	q.refs = q.refs[:0]
	t := take(&q.refTuples, q.slab)
	*t = ReferenceTupleExpr{Elems: elems, SrcRange: hcl.RangeBetween(open, close), OpenRange: open}
	return t, true
}

// reference parses root.attr followed by something other than a name's byte, a dot,
// a bracket or a parenthesis (what would make it another expression).
func (q *quickParser) reference() (ReferenceElem, bool) {
	if !q.atIdent() {
		return ReferenceElem{}, false
	}
	start := q.i
	j := start + 1
	for j < len(q.src) && isIdentByte(q.src[j]) {
		j++
	}
	root := q.src[start:j]
	if j+1 >= len(q.src) || q.src[j] != '.' || !isIdentStart(q.src[j+1]) {
		return ReferenceElem{}, false
	}
	switch string(root) {
	case "true", "false", "null", "for":
		return ReferenceElem{}, false
	}
	k := j + 2
	for k < len(q.src) && isIdentByte(q.src[k]) {
		k++
	}
	if k < len(q.src) {
		switch q.src[k] {
		case '.', '[', '(':
			return ReferenceElem{}, false
		}
	}
	pos := q.pos()
	rootName, _ := q.ident()
	q.i++ // the dot
	attr, _ := q.ident()
	return ReferenceElem{Root: rootName, Attr: attr, Start: pos}, true
}
