package planner

import (
	"github.com/fabrica-iac/fabrica/internal/hclsyntax"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evalShortcuts is off only in the test that compares the shortcuts (referenceList,
// blocks of one instance evaluated without the per-block caches, and the instances of
// a block that reads neither count nor each copying the first's values) with the
// general evaluation.
var evalShortcuts = true

// referenceList evaluates the commonest reference arguments straight from the
// evaluated instances' addresses:
//   - a list of whole counted resources, endpoints = concat(hardware.rack1, ...);
//   - a list of resources of one instance each, endpoints = [hardware.n1, ...];
//   - one resource of one instance, facility = facility.main.
//
// The general way (an evaluation context holding every named resource, go-cty's
// concat building a tuple type of thousands of elements, then each element parsed
// back into an address) costs a fabric with 4,096 endpoints milliseconds, and each of
// 100,000 blocks that names its facility a few microseconds. The value is the one the
// general way gives, with a list's elements as strings too (for Instance.Strings);
// anything else (another kind, an index, a resource of the other sort or one that
// failed, any other expression) reports false and goes the general way. The instances
// a list names are returned too, in the same order, for schema.Instance.References.
// x is what buildGraph found expr refers to, or nil.
func (e *Evaluated) referenceList(a *schema.Attr, expr hcl.Expression, x *exprRefs) (cty.Value, []string, []*schema.Instance, bool) {
	if !evalShortcuts || a.Ref == "" {
		return cty.NilVal, nil, nil, false
	}
	var targets []int32
	if x != nil {
		targets = x.targets
	}
	if a.Type == cty.String {
		if s, ok := e.singleReference(a, expr, targets); ok {
			return s.addr, nil, nil, true
		}
		return cty.NilVal, nil, nil, false
	}
	if !a.Type.Equals(cty.List(cty.String)) {
		return cty.NilVal, nil, nil, false
	}
	var parts []hcl.Expression
	switch x := expr.(type) {
	case *hclsyntax.ReferenceTupleExpr:
		return e.singleReferences(len(x.Elems), func(i int) bool { return x.Elems[i].Root == a.Ref }, targets)
	case *hclsyntax.TupleConsExpr:
		return e.singleReferences(len(x.Exprs), func(i int) bool { return isReferenceTo(a, x.Exprs[i]) }, targets)
	case *hclsyntax.ScopeTraversalExpr:
		parts = []hcl.Expression{x}
	case *hclsyntax.FunctionCallExpr:
		if x.Name != "concat" || x.ExpandFinal || len(x.Args) == 0 {
			return cty.NilVal, nil, nil, false
		}
		parts = make([]hcl.Expression, len(x.Args))
		for i, arg := range x.Args {
			parts[i] = arg
		}
	default:
		return cty.NilVal, nil, nil, false
	}
	var out []cty.Value
	var strs []string
	var insts []*schema.Instance
	for _, p := range parts {
		t, ok := p.(*hclsyntax.ScopeTraversalExpr)
		if !ok || len(t.Traversal) != 2 || t.Traversal.RootName() != a.Ref {
			return cty.NilVal, nil, nil, false
		}
		name, ok := t.Traversal[1].(hcl.TraverseAttr)
		if !ok {
			return cty.NilVal, nil, nil, false
		}
		r, ok := e.Config.ResourceIndex(a.Ref, name.Name)
		if !ok {
			return cty.NilVal, nil, nil, false
		}
		elems, ok := e.countedAddresses(r)
		if !ok {
			return cty.NilVal, nil, nil, false
		}
		if out == nil {
			n := len(elems) * len(parts) // a guess: the parts are usually alike
			out, strs, insts = make([]cty.Value, 0, n), make([]string, 0, n), make([]*schema.Instance, 0, n)
		}
		out = append(out, elems...)
		for _, inst := range e.blocks[r].insts {
			strs = append(strs, inst.Address())
		}
		insts = append(insts, e.blocks[r].insts...)
	}
	if len(out) == 0 {
		return cty.ListValEmpty(cty.String), []string{}, []*schema.Instance{}, true
	}
	return cty.ListVal(out), strs, insts, true
}

// single is a resource of one instance (no count or for_each), recorded with its
// instances between waves, so reading it needs no lock.
type single struct {
	addr cty.Value // its address, as a reference argument reads it
	inst *schema.Instance
}

// singleReferences is referenceList for a list of n references to resources of one
// instance each, as a configuration with a block per node lists them: element i is a
// plain reference to one of a's kind when plain(i), and names the block targets[i]
// (exprRefs.targets).
func (e *Evaluated) singleReferences(n int, plain func(i int) bool, targets []int32) (cty.Value, []string, []*schema.Instance, bool) {
	if n == 0 || len(targets) != n {
		return cty.NilVal, nil, nil, false
	}
	out := make([]cty.Value, n)
	strs := make([]string, n)
	insts := make([]*schema.Instance, n)
	for i := range n {
		if !plain(i) || targets[i] < 0 {
			return cty.NilVal, nil, nil, false
		}
		s := e.blocks[targets[i]].single
		if s.inst == nil {
			return cty.NilVal, nil, nil, false
		}
		out[i], strs[i], insts[i] = s.addr, s.inst.Address(), s.inst
	}
	return cty.ListVal(out), strs, insts, true
}

// isReferenceTo reports whether expr is a plain reference (hardware.n1) to a resource
// of a's kind.
func isReferenceTo(a *schema.Attr, expr hcl.Expression) bool {
	t, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	return ok && len(t.Traversal) == 2 && t.Traversal.RootName() == a.Ref
}

// singleReference returns the resource of one instance that expr names, when it is a
// plain reference to one of a's kind; targets holds the block it names
// (exprRefs.targets).
func (e *Evaluated) singleReference(a *schema.Attr, expr hcl.Expression, targets []int32) (single, bool) {
	if len(targets) != 1 || targets[0] < 0 || !isReferenceTo(a, expr) {
		return single{}, false
	}
	s := e.blocks[targets[0]].single
	return s, s.inst != nil
}
