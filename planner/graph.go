package planner

import (
	"cmp"
	"fmt"
	"slices"
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
	locals    []string
	resources []addrs.Resource
	keyOnce   sync.Once
	k         string // see key
	// exprs holds, for a resource block, what each of its expressions refers to.
	exprs []exprRefs
}

// noRefs is what a literal refers to. It is shared: never modified.
var noRefs = &refs{}

// exprRefs is what one expression refers to, and whether it reads count or each.
type exprRefs struct {
	expr        hcl.Expression
	refs        *refs
	perInstance bool
	hasVars     bool // it names anything at all (var.x included)
}

// finish sorts and de-duplicates, so each block's scope names each root once.
func (r *refs) finish() {
	slices.Sort(r.locals)
	r.locals = slices.Compact(r.locals)
	sortResources(r.resources)
	r.resources = slices.Compact(r.resources)
}

// sortResources sorts a list of resources by kind and name. A list written in a
// configuration is usually sorted already (a fabric's racks) or a few sorted runs (a
// fabric's 4,096 servers, then its 16 storage servers): those runs are merged, which
// for 50 such fabrics took 0.3 s of sorting.
func sortResources(rs []addrs.Resource) {
	var starts []int // where each run after the first starts
	for i := 1; i < len(rs); i++ {
		if byKindName(rs[i-1], rs[i]) > 0 {
			if starts = append(starts, i); len(starts) > maxMergedRuns {
				slices.SortFunc(rs, byKindName)
				return
			}
		}
	}
	if len(starts) == 0 {
		return
	}
	merged := make([]addrs.Resource, 0, len(rs))
	lo := 0
	for _, hi := range append(starts, len(rs)) {
		merged = mergeSorted(merged[:0], rs[:lo], rs[lo:hi])
		copy(rs, merged)
		lo = hi
	}
}

// maxMergedRuns is how many sorted runs sortResources merges rather than sorting.
const maxMergedRuns = 8

// mergeSorted appends to out the merge of two sorted lists, a's first among equals.
func mergeSorted(out, a, b []addrs.Resource) []addrs.Resource {
	for len(a) > 0 && len(b) > 0 {
		if byKindName(b[0], a[0]) < 0 {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
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
	for _, res := range r.resources {
		n += len(res.Kind) + len(res.Name) + 2
	}
	var b strings.Builder
	b.Grow(n)
	for _, l := range r.locals {
		b.WriteString("local.")
		b.WriteString(l)
		b.WriteByte(',')
	}
	for _, res := range r.resources {
		b.WriteString(res.String())
		b.WriteByte(',')
	}
	return b.String()
}

// buildGraph makes the dependency graph from references and depends_on, checking every
// reference against the configuration on the way.
func buildGraph(cfg *schema.Config) (*dag.Graph[node], map[node]*refs, diag.Diagnostics) {
	var diags diag.Diagnostics
	size := len(cfg.Resources) + len(cfg.Locals) + len(cfg.Outputs)
	g := dag.New[node](size)
	all := make(map[node]*refs, size)
	add := func(n node, r *refs, d diag.Diagnostics) {
		diags = diags.Append(d)
		from := g.Index(n)
		for _, l := range r.locals {
			g.ConnectIndex(from, g.Index(node{"local", l}))
		}
		for _, res := range r.resources {
			g.ConnectIndex(from, g.Index(node{res.Kind, res.Name}))
		}
		all[n] = r
	}
	for _, name := range sortedKeys(cfg.Locals) {
		r, d := collectRefs(cfg, []hcl.Expression{cfg.Locals[name].Expr}, refScope{})
		add(node{"local", name}, r, d)
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
		n := node{res.Addr.Kind, res.Addr.Name}
		add(n, resRefs[i].r, resRefs[i].diags)
		for _, t := range res.DependsOn {
			r, d := resourceRef(cfg, t)
			diags = diags.Append(d)
			if d == nil {
				g.Connect(n, node{r.Kind, r.Name})
			}
		}
	}
	for _, name := range sortedKeys(cfg.Outputs) {
		r, d := collectRefs(cfg, []hcl.Expression{cfg.Outputs[name].Expr}, refScope{})
		add(node{"output", name}, r, d)
	}
	return g, all, diags
}

// collectResourceRefs finds what a resource block refers to, as a whole and per
// expression (which is what evaluating an expression needs in scope), checking each
// reference.
func collectResourceRefs(cfg *schema.Config, res *schema.Resource) (*refs, diag.Diagnostics) {
	var diags diag.Diagnostics
	scope := refScope{count: res.Count != nil, each: res.ForEach != nil}
	exprs := res.Body.Expressions()
	if res.Count != nil || res.ForEach != nil {
		exprs = append(exprs, res.Count, res.ForEach)
	}
	all := &refs{exprs: make([]exprRefs, 0, len(exprs))}
	var runs [][]addrs.Resource
	for _, e := range exprs {
		if e == nil {
			continue
		}
		x := exprRefs{expr: e, refs: noRefs}
		if isLiteral(e) {
			all.exprs = append(all.exprs, x)
			continue // most arguments: nothing to walk
		}
		vars := variables(e)
		x.refs = &refs{resources: make([]addrs.Resource, 0, len(vars))}
		x.hasVars = len(vars) > 0
		for _, t := range vars {
			switch t.RootName() {
			case "count", "each":
				x.perInstance = true
			}
			diags = diags.Append(x.refs.add(cfg, t, scope))
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

// variables is expr.Variables(), without walking the commonest expressions: a
// reference, and a list of references (a fabric's endpoints).
func variables(expr hcl.Expression) []hcl.Traversal {
	switch x := expr.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		return []hcl.Traversal{x.Traversal}
	case *hclsyntax.TupleConsExpr:
		out := make([]hcl.Traversal, len(x.Exprs))
		for i, el := range x.Exprs {
			t, ok := el.(*hclsyntax.ScopeTraversalExpr)
			if !ok {
				return expr.Variables()
			}
			out[i] = t.Traversal
		}
		if len(out) > 0 {
			return out
		}
	}
	return expr.Variables()
}

// concatSorted joins sorted lists of resources, in order when they do not overlap (a
// block's facility, its 4,096 endpoints, its storage), so that finish need not sort
// the whole again; lists that overlap are sorted again by finish.
func concatSorted(runs [][]addrs.Resource) []addrs.Resource {
	switch len(runs) {
	case 0:
		return nil
	case 1: // most blocks: one reference, to their facility
		return slices.Clip(runs[0])
	}
	slices.SortFunc(runs, func(a, b []addrs.Resource) int { return byKindName(a[0], b[0]) })
	n := 0
	for _, r := range runs {
		n += len(r)
	}
	out := make([]addrs.Resource, 0, n)
	for _, r := range runs {
		out = append(out, r...)
	}
	return out
}

func byKindName(a, b addrs.Resource) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
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
			diags = diags.Append(r.add(cfg, t, scope))
		}
	}
	r.finish()
	return r, diags
}

// refScope says which per-instance names a block may use.
type refScope struct{ count, each bool }

func (r *refs) add(cfg *schema.Config, t hcl.Traversal, scope refScope) diag.Diagnostics {
	root := t.RootName()
	rng := t.SourceRange // for diagnostics only
	switch root {
	case "var":
		name, ok := attrStep(t, 1)
		if !ok {
			return diag.Diagnostics{diag.Errorf(rng(), "Invalid reference", "A variable is referred to as var.NAME.")}
		}
		if cfg.Variables[name] == nil {
			return diag.Diagnostics{diag.Errorf(rng(), "Reference to undeclared input variable",
				"No variable named %q is declared%s. Declare it with a variable \"%s\" block.", name, didYouMean(name, variableNames(cfg)), name)}
		}
	case "local":
		name, ok := attrStep(t, 1)
		if !ok {
			return diag.Diagnostics{diag.Errorf(rng(), "Invalid reference", "A local value is referred to as local.NAME.")}
		}
		if cfg.Locals[name] == nil {
			return diag.Diagnostics{diag.Errorf(rng(), "Reference to undeclared local value",
				"No local value named %q is declared%s. Add it to a locals block.", name, didYouMean(name, sortedKeys(cfg.Locals)))}
		}
		r.locals = append(r.locals, name)
	case "count":
		if !scope.count {
			return diag.Diagnostics{diag.Errorf(rng(), "Reference to \"count\" in a block without count",
				"count.index is only available in a resource that sets the count meta-argument.")}
		}
		if name, _ := attrStep(t, 1); name != "index" {
			return diag.Diagnostics{diag.Errorf(rng(), "Invalid count attribute", "The only attribute of count is count.index.")}
		}
	case "each":
		if !scope.each {
			return diag.Diagnostics{diag.Errorf(rng(), "Reference to \"each\" in a block without for_each",
				"each.key and each.value are only available in a resource that sets for_each.")}
		}
		if name, _ := attrStep(t, 1); name != "key" && name != "value" {
			return diag.Diagnostics{diag.Errorf(rng(), "Invalid each attribute", "The attributes of each are each.key and each.value.")}
		}
	default:
		res, d := resourceRef(cfg, t)
		if d == nil {
			r.resources = append(r.resources, res)
		}
		return d
	}
	return nil
}

// resourceRef resolves a traversal rooted at a resource kind to a declared resource.
func resourceRef(cfg *schema.Config, t hcl.Traversal) (addrs.Resource, diag.Diagnostics) {
	root := t.RootName()
	rng := t.SourceRange // for diagnostics only
	if schema.Kind(root) == nil {
		roots := append([]string{"var", "local", "count", "each"}, schema.KindNames()...)
		return addrs.Resource{}, diag.Diagnostics{diag.Errorf(rng(), "Reference to unknown name",
			"%q is not something a configuration can refer to%s. References start with var., local., count., each. or a resource kind (%s).",
			root, didYouMean(root, roots), strings.Join(schema.KindNames(), ", "))}
	}
	name, ok := attrStep(t, 1)
	if !ok {
		return addrs.Resource{}, diag.Diagnostics{diag.Errorf(rng(), "Invalid reference",
			"A resource is referred to as %s.NAME, for example %s.main.", root, root)}
	}
	addr := addrs.Resource{Kind: root, Name: name}
	if cfg.Resource(addr) == nil {
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
		return addrs.Resource{}, diag.Diagnostics{diag.Errorf(rng(), "Reference to undeclared resource",
			"No %s named %q is declared%s.", root, name, hint)}
	}
	return addr, nil
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
func resourceDependencies(g *dag.Graph[node]) map[addrs.Resource][]string {
	addr := map[node]string{}
	for _, n := range g.Vertices() {
		addr[n] = n.String()
	}
	viaLocal := map[node][]string{}
	var collect func(n node, seen map[string]bool)
	collect = func(n node, seen map[string]bool) {
		g.EachDependency(n, func(d node) {
			switch d.kind {
			case "local":
				if _, ok := viaLocal[d]; !ok {
					inner := map[string]bool{}
					collect(d, inner)
					viaLocal[d] = sortedKeys(inner)
				}
				for _, r := range viaLocal[d] {
					seen[r] = true
				}
			case "output":
			default:
				seen[addr[d]] = true
			}
		})
	}
	out := make(map[addrs.Resource][]string, g.Len())
	for _, n := range g.Vertices() {
		if n.kind == "local" || n.kind == "output" {
			continue
		}
		// Most blocks name resources only: their list is their edges, without a set.
		var direct []string
		viaLocals := false
		g.EachDependency(n, func(d node) {
			switch d.kind {
			case "local":
				viaLocals = true
			case "output":
			default:
				direct = append(direct, addr[d])
			}
		})
		if viaLocals {
			seen := map[string]bool{}
			collect(n, seen)
			direct = sortedKeys(seen)
		} else {
			slices.Sort(direct)
			direct = slices.Compact(direct)
		}
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
