package planner

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/fabrica-iac/fabrica/internal/hclsyntax"
	"github.com/fabrica-iac/fabrica/planner/dag"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
)

// node is a vertex of the evaluation graph: a local, a resource block or an output.
type node struct {
	kind string // "local", "output" or a resource kind
	name string
}

func (n node) String() string { return n.kind + "." + n.name }

// refs is what one block refers to, found from its expressions' traversals.
type refs struct {
	locals []string
	// resources holds the blocks referred to, by their position in Config.Resources,
	// sorted, each once.
	resources []int32
	keyOnce   sync.Once
	k         string // see key
	// exprs holds, for a resource block, what each of its expressions that is not a
	// literal refers to.
	exprs []exprRefs
}

// exprRefs is what one expression refers to, and whether it reads count or each.
type exprRefs struct {
	expr hcl.Expression
	refs *refs
	// targets holds, for a reference or a list of references (see plainTraversals;
	// and hclsyntax.ReferenceTupleExpr), the block each element names, in order: -1
	// where it names none.
	targets     []int32
	perInstance bool
	hasVars     bool // it names anything at all (var.x included)
}

// finish sorts and de-duplicates, so each block's scope names each root once.
func (r *refs) finish() {
	slices.Sort(r.locals)
	r.locals = slices.Compact(r.locals)
	slices.Sort(r.resources)
	r.resources = slices.Compact(r.resources)
}

// key identifies the set of roots, so blocks that refer to the same things share one
// evaluation context. It is made on first use: most expressions' refs never need one.
func (r *refs) key() string {
	r.keyOnce.Do(func() { r.k = r.buildKey() })
	return r.k
}

func (r *refs) buildKey() string {
	n := 0
	for _, l := range r.locals {
		n += len("local.") + len(l) + 1
	}
	b := make([]byte, 0, n+8*len(r.resources))
	for _, l := range r.locals {
		b = append(b, "local."...)
		b = append(b, l...)
		b = append(b, ',')
	}
	for _, res := range r.resources {
		b = append(b, '#')
		b = strconv.AppendInt(b, int64(res), 10)
		b = append(b, ',')
	}
	return string(b)
}

// graph is the evaluation graph. Its vertices are numbered: the resource blocks first,
// by their position in Config.Resources, then the local values, then the outputs, each
// in name order.
type graph struct {
	*dag.Graph[node]
	resources, locals int
	// refs holds what each vertex refers to.
	refs []*refs
}

func (g *graph) isResource(v int) bool { return v < g.resources }
func (g *graph) isLocal(v int) bool    { return v >= g.resources && v < g.resources+g.locals }
func (g *graph) isOutput(v int) bool   { return v >= g.resources+g.locals }

// buildGraph makes the dependency graph from references and depends_on, checking every
// reference against the configuration on the way.
func buildGraph(cfg *schema.Config) (*graph, diag.Diagnostics) {
	var diags diag.Diagnostics
	localNames, outputNames := sortedKeys(cfg.Locals), sortedKeys(cfg.Outputs)
	vertices := make([]node, 0, len(cfg.Resources)+len(localNames)+len(outputNames))
	for _, res := range cfg.Resources {
		vertices = append(vertices, node{res.Addr.Kind, res.Addr.Name})
	}
	localVertex := make(map[string]int, len(localNames))
	for _, name := range localNames {
		localVertex[name] = len(vertices)
		vertices = append(vertices, node{"local", name})
	}
	for _, name := range outputNames {
		vertices = append(vertices, node{"output", name})
	}
	g := &graph{Graph: dag.Dense(vertices), resources: len(cfg.Resources), locals: len(localNames),
		refs: make([]*refs, len(vertices))}
	add := func(v int, r *refs, d diag.Diagnostics) {
		diags = diags.Append(d)
		if len(r.locals) == 0 {
			// Most blocks: their edges are the blocks they name, a list made already.
			g.ConnectAll(v, r.resources)
		} else {
			for _, l := range r.locals {
				g.ConnectIndex(v, localVertex[l])
			}
			for _, res := range r.resources {
				g.ConnectIndex(v, int(res))
			}
		}
		g.refs[v] = r
	}
	for _, name := range localNames {
		r, d := collectRefs(cfg, []hcl.Expression{cfg.Locals[name].Expr}, refScope{})
		add(localVertex[name], r, d)
	}
	// Walking every block's expressions is most of the work: it is done on every core,
	// the graph is then built in configuration order.
	type found struct {
		r     *refs
		diags diag.Diagnostics
	}
	resRefs := make([]found, len(cfg.Resources))
	parallelFor(len(cfg.Resources), func(i int) {
		resRefs[i].r, resRefs[i].diags = collectResourceRefs(cfg, cfg.Resources[i])
	})
	for i, res := range cfg.Resources {
		add(i, resRefs[i].r, resRefs[i].diags)
		for _, t := range res.DependsOn {
			to, d := resourceRef(cfg, t)
			diags = diags.Append(d)
			if d == nil {
				g.ConnectIndex(i, to)
			}
		}
	}
	for i, name := range outputNames {
		r, d := collectRefs(cfg, []hcl.Expression{cfg.Outputs[name].Expr}, refScope{})
		add(g.resources+g.locals+i, r, d)
	}
	return g, diags
}

// collectResourceRefs finds what a resource block refers to, as a whole and per
// expression (which is what evaluating an expression needs in scope), checking each
// reference.
func collectResourceRefs(cfg *schema.Config, res *schema.Resource) (*refs, diag.Diagnostics) {
	var diags diag.Diagnostics
	scope := refScope{count: res.Count != nil, each: res.ForEach != nil}
	var exprs []hcl.Expression
	if res.Body.Blocks == nil && res.Count == nil && res.ForEach == nil {
		// Most blocks: their arguments are all there is, and most are literals.
		n := 0
		for _, a := range res.Body.Args {
			if !isLiteral(a.Expr) {
				n++
			}
		}
		exprs = make([]hcl.Expression, 0, n)
		for _, a := range res.Body.Args {
			if !isLiteral(a.Expr) {
				exprs = append(exprs, a.Expr)
			}
		}
	} else {
		exprs = res.Body.Expressions()
		if res.Count != nil || res.ForEach != nil {
			exprs = append(exprs, res.Count, res.ForEach)
		}
	}
	all := &refs{}
	var runs [][]int32
	for _, e := range exprs {
		if e == nil || isLiteral(e) {
			continue // most arguments: nothing to walk, and nothing to record
		}
		x := exprRefs{expr: e}
		vars, plain := plainTraversals(e)
		compact, isCompact := e.(*hclsyntax.ReferenceTupleExpr)
		n := len(vars)
		switch {
		case isCompact:
			n = len(compact.Elems)
		case !plain:
			vars = e.Variables()
			n = len(vars)
		}
		x.refs = &refs{}
		x.hasVars = n > 0
		targets := make([]int32, n)
		increasing := true // the targets, sorted and each once: they are the refs' resources
		for i := range n {
			to := -1
			var t hcl.Traversal
			if isCompact {
				// Most elements name a block: found without making their traversal.
				el := compact.Elems[i]
				prev := -1
				if i > 0 {
					prev = int(targets[i-1])
				}
				if j, ok := cfg.ResourceIndexAfter(prev, el.Root, el.Attr); ok {
					to = j
				} else {
					t = el.Traversal(compact.SrcRange.Filename)
				}
			} else {
				t = vars[i]
			}
			if t != nil {
				switch t.RootName() {
				case "count", "each":
					x.perInstance = true
				}
				var d diag.Diagnostics
				to, d = x.refs.add(cfg, t, scope)
				diags = diags.Append(d)
			}
			targets[i] = int32(to)
			increasing = increasing && to >= 0 && (i == 0 || targets[i-1] < targets[i])
		}
		if plain || isCompact {
			x.targets = targets
		}
		if increasing {
			x.refs.resources = targets
		} else {
			for _, to := range targets {
				if to >= 0 {
					x.refs.resources = append(x.refs.resources, to)
				}
			}
		}
		x.refs.finish()
		all.locals = append(all.locals, x.refs.locals...)
		if len(x.refs.resources) > 0 {
			runs = append(runs, x.refs.resources)
		}
		all.exprs = append(all.exprs, x)
	}
	all.resources = concatSorted(runs)
	all.finish()
	return all, diags
}

// plainTraversals returns the traversals of a reference (facility.main) or of a list
// of references (a fabric's endpoints), one per element, without walking the
// expression: most expressions that name anything are one of the two.
func plainTraversals(expr hcl.Expression) ([]hcl.Traversal, bool) {
	switch x := expr.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		return []hcl.Traversal{x.Traversal}, true
	case *hclsyntax.TupleConsExpr:
		if len(x.Exprs) == 0 {
			return nil, false
		}
		out := make([]hcl.Traversal, len(x.Exprs))
		for i, el := range x.Exprs {
			t, ok := el.(*hclsyntax.ScopeTraversalExpr)
			if !ok {
				return nil, false
			}
			out[i] = t.Traversal
		}
		return out, true
	}
	return nil, false
}

// concatSorted joins sorted lists of blocks, in order when they do not overlap (a
// block's facility, its 4,096 endpoints, its storage), so that finish need not sort
// the whole again; lists that overlap are sorted again by finish.
func concatSorted(runs [][]int32) []int32 {
	switch len(runs) {
	case 0:
		return nil
	case 1: // most blocks: one reference, to their facility
		return slices.Clip(runs[0])
	}
	slices.SortFunc(runs, func(a, b []int32) int { return cmp.Compare(a[0], b[0]) })
	n := 0
	for _, r := range runs {
		n += len(r)
	}
	out := make([]int32, 0, n)
	for _, r := range runs {
		out = append(out, r...)
	}
	return out
}

// collectRefs finds what the expressions refer to, checking each reference.
func collectRefs(cfg *schema.Config, exprs []hcl.Expression, scope refScope) (*refs, diag.Diagnostics) {
	var diags diag.Diagnostics
	r := &refs{}
	for _, e := range exprs {
		if e == nil {
			continue
		}
		for _, t := range e.Variables() {
			diags = diags.Append(r.record(cfg, t, scope))
		}
	}
	r.finish()
	return r, diags
}

// refScope says which per-instance names a block may use.
type refScope struct{ count, each bool }

// record checks one reference and records the local value or resource block it names.
func (r *refs) record(cfg *schema.Config, t hcl.Traversal, scope refScope) diag.Diagnostics {
	to, d := r.add(cfg, t, scope)
	if to >= 0 {
		r.resources = append(r.resources, int32(to))
	}
	return d
}

// add checks one reference and records the local value it names. It returns the
// position of the resource block it names, or -1; the caller records that.
func (r *refs) add(cfg *schema.Config, t hcl.Traversal, scope refScope) (int, diag.Diagnostics) {
	root := t.RootName()
	rng := t.SourceRange // for diagnostics only
	switch root {
	case "var":
		name, ok := attrStep(t, 1)
		if !ok {
			return -1, diag.Diagnostics{diag.Errorf(rng(), "Invalid reference", "A variable is referred to as var.NAME.")}
		}
		if cfg.Variables[name] == nil {
			return -1, diag.Diagnostics{diag.Errorf(rng(), "Reference to undeclared input variable",
				"No variable named %q is declared%s. Declare it with a variable \"%s\" block.", name, didYouMean(name, variableNames(cfg)), name)}
		}
	case "local":
		name, ok := attrStep(t, 1)
		if !ok {
			return -1, diag.Diagnostics{diag.Errorf(rng(), "Invalid reference", "A local value is referred to as local.NAME.")}
		}
		if cfg.Locals[name] == nil {
			return -1, diag.Diagnostics{diag.Errorf(rng(), "Reference to undeclared local value",
				"No local value named %q is declared%s. Add it to a locals block.", name, didYouMean(name, sortedKeys(cfg.Locals)))}
		}
		r.locals = append(r.locals, name)
	case "count":
		if !scope.count {
			return -1, diag.Diagnostics{diag.Errorf(rng(), "Reference to \"count\" in a block without count",
				"count.index is only available in a resource that sets the count meta-argument.")}
		}
		if name, _ := attrStep(t, 1); name != "index" {
			return -1, diag.Diagnostics{diag.Errorf(rng(), "Invalid count attribute", "The only attribute of count is count.index.")}
		}
	case "each":
		if !scope.each {
			return -1, diag.Diagnostics{diag.Errorf(rng(), "Reference to \"each\" in a block without for_each",
				"each.key and each.value are only available in a resource that sets for_each.")}
		}
		if name, _ := attrStep(t, 1); name != "key" && name != "value" {
			return -1, diag.Diagnostics{diag.Errorf(rng(), "Invalid each attribute", "The attributes of each are each.key and each.value.")}
		}
	default:
		return resourceRef(cfg, t)
	}
	return -1, nil
}

// resourceRef resolves a traversal rooted at a resource kind to a declared resource.
func resourceRef(cfg *schema.Config, t hcl.Traversal) (int, diag.Diagnostics) {
	root := t.RootName()
	if name, ok := attrStep(t, 1); ok {
		if i, ok := cfg.ResourceIndex(root, name); ok {
			return i, nil
		}
	}
	rng := t.SourceRange // for diagnostics only
	if schema.Kind(root) == nil {
		roots := append([]string{"var", "local", "count", "each"}, schema.KindNames()...)
		return -1, diag.Diagnostics{diag.Errorf(rng(), "Reference to unknown name",
			"%q is not something a configuration can refer to%s. References start with var., local., count., each. or a resource kind (%s).",
			root, didYouMean(root, roots), strings.Join(schema.KindNames(), ", "))}
	}
	name, ok := attrStep(t, 1)
	if !ok {
		return -1, diag.Diagnostics{diag.Errorf(rng(), "Invalid reference",
			"A resource is referred to as %s.NAME, for example %s.main.", root, root)}
	}
	i, ok := cfg.ResourceIndex(root, name)
	if !ok {
		var same []string
		for _, r := range cfg.Resources {
			if r.Addr.Kind == root {
				same = append(same, r.Addr.Name)
			}
		}
		hint := didYouMean(name, same)
		for _, r := range cfg.Resources {
			if r.Addr.Name == name && hint == "" {
				hint = fmt.Sprintf(" (there is a %s named %q: did you mean %s?)", r.Addr.Kind, name, r.Addr)
			}
		}
		return -1, diag.Diagnostics{diag.Errorf(rng(), "Reference to undeclared resource",
			"No %s named %q is declared%s.", root, name, hint)}
	}
	return i, nil
}

func attrStep(t hcl.Traversal, i int) (string, bool) {
	if len(t) <= i {
		return "", false
	}
	a, ok := t[i].(hcl.TraverseAttr)
	if !ok {
		return "", false
	}
	return a.Name, true
}

// cycleDiagnostic names every block of a dependency cycle.
func cycleDiagnostic(cfg *schema.Config, cycle []node) diag.Diagnostic {
	names := make([]string, 0, len(cycle)+1)
	for _, n := range cycle {
		names = append(names, n.String())
	}
	names = append(names, cycle[0].String())
	return diag.Errorf(declRange(cfg, cycle[0]), "Dependency cycle",
		"These blocks refer to each other in a loop, so none can be evaluated first: %s. Break the loop by removing one of the references.",
		strings.Join(names, " → "))
}

func declRange(cfg *schema.Config, n node) hcl.Range {
	switch n.kind {
	case "local":
		return cfg.Locals[n.name].DeclRange
	case "output":
		return cfg.Outputs[n.name].DeclRange
	}
	return cfg.Resource(addrs.Resource{Kind: n.kind, Name: n.name}).DeclRange
}

// resourceDependencies returns, per resource, the resources it depends on directly or
// through local values, as sorted address strings: what apply orders changes by. Every
// vertex's address is made once, so the lists of a block that names 1,000 others share
// their strings.
func resourceDependencies(g *graph) map[addrs.Resource][]string {
	addr := make([]string, g.resources)
	for v := range addr {
		addr[v] = g.Vertex(v).String()
	}
	viaLocal := map[int][]string{}
	var collect func(v int, seen map[string]bool)
	collect = func(v int, seen map[string]bool) {
		g.EachDependencyIndex(v, func(d int) {
			switch {
			case g.isLocal(d):
				if _, ok := viaLocal[d]; !ok {
					inner := map[string]bool{}
					collect(d, inner)
					viaLocal[d] = sortedKeys(inner)
				}
				for _, r := range viaLocal[d] {
					seen[r] = true
				}
			case g.isResource(d):
				seen[addr[d]] = true
			}
		})
	}
	out := make(map[addrs.Resource][]string, g.resources)
	for v := range g.resources {
		// Most blocks name resources only: their list is their edges, without a set.
		var direct []string
		viaLocals := false
		g.EachDependencyIndex(v, func(d int) {
			switch {
			case g.isLocal(d):
				viaLocals = true
			case g.isResource(d):
				direct = append(direct, addr[d])
			}
		})
		if viaLocals {
			seen := map[string]bool{}
			collect(v, seen)
			direct = sortedKeys(seen)
		} else {
			slices.Sort(direct)
			direct = slices.Compact(direct)
		}
		n := g.Vertex(v)
		out[addrs.Resource{Kind: n.kind, Name: n.name}] = direct
	}
	return out
}

// dependencyLists returns each resource's dependencies (none when the evaluation
// stopped before the graph was built).
func (e *Evaluated) dependencyLists() map[addrs.Resource][]string {
	if e.dependencies == nil {
		return nil
	}
	return e.dependencies()
}

// ResourceGraph returns each resource's dependencies on other resources (through local
// values too), as addresses.
func (e *Evaluated) ResourceGraph() map[string][]string {
	deps := e.dependencyLists()
	out := make(map[string][]string, len(deps))
	for r, deps := range deps {
		out[r.String()] = deps
	}
	return out
}
