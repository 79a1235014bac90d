package planner

import (
	"fmt"
	"slices"
	"sync"

	"github.com/fabrica-iac/fabrica/internal/hclsyntax"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// maxErrorsPerResource bounds the diagnostics one counted block reports, so a mistake in
// a block of 100,000 instances gives a readable error, not 100,000 of them.
const maxErrorsPerResource = 10

// resourceResult is one resource block's evaluated instances, made without touching
// shared state so blocks of one wave can be evaluated at once.
type resourceResult struct {
	res   *schema.Resource
	insts []*schema.Instance
	diags diag.Diagnostics
	// addrs holds the instances' addresses as values, for a resource with count: what
	// references to the whole resource as a list of addresses read.
	addrs []cty.Value
	// single is set for a resource of one instance evaluated without errors.
	single single
}

// parallelInstances is the pool size above which a block's instances are evaluated on
// every core.
const parallelInstances = 512

func (e *Evaluated) evalResource(res *schema.Resource, r *refs) resourceResult {
	if evalShortcuts && res.Count == nil && res.ForEach == nil {
		return e.evalSingle(res, r)
	}
	sc := newBlockScope(e, res, r.exprs)
	exps, diags := e.expand(res, sc)
	if diags.HasErrors() {
		return resourceResult{res: res, diags: diags}
	}
	sc.single = evalShortcuts && len(exps) == 1
	insts := make([]*schema.Instance, len(exps))
	instDiags := make([]diag.Diagnostics, len(exps))
	uniform := true
	for _, x := range r.exprs {
		uniform = uniform && !x.perInstance
	}
	// eval evaluates instance i, and returns its scope.
	eval := func(i int) *instanceScope {
		x := exps[i]
		inst := schema.NewInstance(res, x.key, x.each)
		inst.Uniform = uniform
		is := &instanceScope{block: sc, x: x}
		vals, d := evalBody(res.Body, is)
		inst.Values, inst.Sensitive = vals, is.sensitive
		keepReferenceStrings(inst, is.refs)
		if !d.HasErrors() {
			d = d.Append(schema.Derive(inst, e))
		}
		insts[i], instDiags[i] = inst, d
		return is
	}
	one := func(i int) { eval(i) }
	from := 0
	if evalShortcuts && uniform && len(exps) > 1 {
		// The instances of a block that reads neither count nor each have the same
		// arguments (a rack of four servers): the first is evaluated, the others take
		// a copy of its values, unless it had anything to say (its diagnostics name
		// each instance). Each works out its own derived figures.
		first := eval(0)
		from = 1
		if len(instDiags[0]) == 0 {
			src := insts[0]
			one = func(i int) {
				x := exps[i]
				inst := schema.NewInstance(res, x.key, x.each)
				inst.Uniform = true
				inst.Values, inst.Sensitive = slices.Clone(src.Values), slices.Clone(src.Sensitive)
				keepReferenceStrings(inst, first.refs)
				insts[i], instDiags[i] = inst, schema.Derive(inst, e)
			}
		}
	}
	if rest := len(exps) - from; rest >= parallelInstances {
		parallelFor(rest, func(i int) { one(from + i) })
	} else {
		for i := from; i < len(exps); i++ {
			one(i)
		}
	}
	failed := 0
	for i, d := range instDiags {
		diags = diags.Append(d)
		if d.HasErrors() {
			if failed++; failed == maxErrorsPerResource && len(exps) > i+1 {
				diags = diags.Append(diag.Errorf(res.DeclRange, "Too many errors",
					"Stopped reporting on %s after %d failing instances; fix the errors above and run again.", res.Addr, failed))
				break
			}
		}
	}
	out := resourceResult{res: res, insts: insts, diags: diags}
	if res.Count == nil && res.ForEach == nil && len(insts) == 1 && !diags.HasErrors() {
		out.single = single{addr: cty.StringVal(insts[0].Address()), inst: insts[0]} // here, on every core
	}
	if res.Count != nil && !diags.HasErrors() {
		out.addrs = make([]cty.Value, len(insts))
		for i, inst := range insts {
			out.addrs[i] = cty.StringVal(inst.Address())
		}
	}
	return out
}

// evalSingle is evalResource for a block without count or for_each: one instance,
// evaluated without the pools, closures and per-block caches a block of many needs
// (a configuration with a block per node has 100,000 of them). Its arguments cannot
// read count or each (buildGraph reports that), so it is uniform.
func (e *Evaluated) evalSingle(res *schema.Resource, r *refs) resourceResult {
	sc := blockScope{e: e, res: res, exprs: r.exprs, single: true}
	is := instanceScope{block: &sc}
	inst := schema.NewInstance(res, addrs.Key{}, cty.NilVal)
	inst.Uniform = true
	vals, diags := evalBody(res.Body, &is)
	inst.Values, inst.Sensitive = vals, is.sensitive
	keepReferenceStrings(inst, is.refs)
	if !diags.HasErrors() {
		diags = diags.Append(schema.Derive(inst, e))
	}
	out := resourceResult{res: res, insts: []*schema.Instance{inst}, diags: diags}
	if !diags.HasErrors() {
		out.single = single{addr: cty.StringVal(inst.Address()), inst: inst}
	}
	return out
}

// keepReferenceStrings records on inst the strings of the reference arguments its
// evaluation read (see instanceScope.keepStrings).
func keepReferenceStrings(inst *schema.Instance, refs map[string]argValue) {
	for name, r := range refs {
		inst.KeepStrings(name, r.strs, r.insts)
	}
}

// addInstances and addResource record a block's instances, between waves: each
// writes its own fields, so a large wave's two run at once (see evalWave).
func (e *Evaluated) addInstances(r resourceResult) {
	for _, inst := range r.insts {
		e.byAddr[inst.Address()] = inst
	}
	e.Instances = append(e.Instances, r.insts...)
}

func (e *Evaluated) addResource(r resourceResult) {
	b := &e.blocks[r.res.Index]
	b.insts, b.counted, b.single = r.insts, r.addrs, r.single
	if r.diags.HasErrors() { // references to it read an unknown value
		b.value, b.addrs = cty.DynamicVal, cty.DynamicVal
	}
}

// blockScope builds, on first use and once per block, an evaluation context per
// expression holding only what that expression refers to: a literal argument costs
// nothing, and an argument that names one rack does not build the 100,000 objects a
// fabric's endpoints refer to.
type blockScope struct {
	mu    sync.Mutex
	e     *Evaluated
	res   *schema.Resource
	exprs []exprRefs // from buildGraph
	obj   map[hcl.Expression]*hcl.EvalContext
	addrs map[hcl.Expression]*hcl.EvalContext
	// perInstance records which expressions read count or each.
	perInstance map[hcl.Expression]bool
	quotedRefs  map[hcl.Expression]bool

	// args holds the decoded value of each argument that is the same for every
	// instance (it reads neither count nor each): evaluated once per block, not once
	// per instance.
	argsMu sync.RWMutex
	args   map[hcl.Expression]argValue

	// single is set for a block of one instance, which has no use for the caches
	// above: a configuration with a block per node would make 100,000 of each.
	single bool
}

type argValue struct {
	v         cty.Value
	diags     diag.Diagnostics
	sensitive bool
	strs      []string           // v's elements, when referenceList made it,
	insts     []*schema.Instance // and the instances they name
}

func newBlockScope(e *Evaluated, res *schema.Resource, exprs []exprRefs) *blockScope {
	// The maps are made on first write: most of 25,000 rack blocks need one or two.
	return &blockScope{e: e, res: res, exprs: exprs}
}

func (b *blockScope) arg(expr hcl.Expression) (argValue, bool) {
	b.argsMu.RLock()
	v, ok := b.args[expr]
	b.argsMu.RUnlock()
	return v, ok
}

// keepArg remembers an argument's value for the block's other instances, unless it
// depends on the instance.
func (b *blockScope) keepArg(expr hcl.Expression, v argValue) {
	if b.single || b.isPerInstance(expr) {
		return
	}
	b.argsMu.Lock()
	if b.args == nil {
		b.args = map[hcl.Expression]argValue{}
	}
	b.args[expr] = v
	b.argsMu.Unlock()
}

// context returns the evaluation context of one of the block's expressions, and
// whether the expression reads count or each.
func (b *blockScope) context(expr hcl.Expression, addresses bool) (*hcl.EvalContext, bool) {
	if b.single {
		r, perInstance := b.refsOf(expr)
		if addresses {
			return b.e.addressScope(r), perInstance
		}
		return b.e.scope(r), perInstance
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cache := b.obj
	if addresses {
		cache = b.addrs
	}
	if ctx, ok := cache[expr]; ok {
		return ctx, b.perInstance[expr]
	}
	r, perInstance := b.refsOf(expr)
	if perInstance {
		if b.perInstance == nil {
			b.perInstance = map[hcl.Expression]bool{}
		}
		b.perInstance[expr] = true
	}
	var ctx *hcl.EvalContext
	if addresses {
		ctx = b.e.addressScope(r)
		if b.addrs == nil {
			b.addrs = map[hcl.Expression]*hcl.EvalContext{}
		}
		b.addrs[expr] = ctx
	} else {
		ctx = b.e.scope(r)
		if b.obj == nil {
			b.obj = map[hcl.Expression]*hcl.EvalContext{}
		}
		b.obj[expr] = ctx
	}
	return ctx, perInstance
}

// refsOf returns what an expression of the block refers to, as buildGraph found it.
func (b *blockScope) refsOf(expr hcl.Expression) (*refs, bool) {
	if x := b.exprRef(expr); x != nil {
		return x.refs, x.perInstance
	}
	// Not one of the block's expressions as listed (buildGraph has checked them all).
	r, perInstance := &refs{}, false
	for _, t := range expr.Variables() {
		switch t.RootName() {
		case "count", "each":
			perInstance = true
		default:
			r.record(b.e.Config, t, refScope{count: true, each: true})
		}
	}
	r.finish()
	return r, perInstance
}

func (b *blockScope) exprRef(expr hcl.Expression) *exprRefs {
	for i := range b.exprs {
		if b.exprs[i].expr == expr {
			return &b.exprs[i]
		}
	}
	return nil
}

// quoted reports, once per block, whether a reference argument was written as a quoted
// address.
func (b *blockScope) quoted(expr hcl.Expression) bool {
	if b.single {
		return b.isQuoted(expr)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if q, ok := b.quotedRefs[expr]; ok {
		return q
	}
	q := b.isQuoted(expr)
	if b.quotedRefs == nil {
		b.quotedRefs = map[hcl.Expression]bool{}
	}
	b.quotedRefs[expr] = q
	return q
}

func (b *blockScope) isQuoted(expr hcl.Expression) bool {
	if x := b.exprRef(expr); x != nil && x.hasVars { // a reference is never quoted
		return false
	}
	return quotedAddress(expr)
}

func (b *blockScope) isPerInstance(expr hcl.Expression) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.perInstance[expr]
}

// instanceScope evaluates one instance's expressions, adding count.index or
// each.key/each.value where an expression reads them.
type instanceScope struct {
	block *blockScope
	x     expansion
	// sensitive collects the top-level arguments whose values were marked sensitive.
	sensitive []string
	// refs holds the top-level reference lists already known as strings and
	// instances (see referenceList), for the instance's Strings and References.
	refs map[string]argValue
	// vars holds count or each, built once per instance.
	vars map[string]cty.Value
}

func (s *instanceScope) eval(expr hcl.Expression, addresses bool) (cty.Value, hcl.Diagnostics) {
	if isLiteral(expr) {
		return literalValue(expr)
	}
	ctx, perInstance := s.block.context(expr, addresses)
	if perInstance {
		ctx = s.child(ctx)
	}
	return expr.Value(ctx)
}

func (s *instanceScope) child(ctx *hcl.EvalContext) *hcl.EvalContext {
	res := s.block.res
	if s.vars == nil {
		switch {
		case res.Count != nil:
			s.vars = map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(s.x.key.Int))})}
		case res.ForEach != nil:
			s.vars = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(s.x.key.Str), "value": s.x.each})}
		default:
			return ctx
		}
	}
	c := ctx.NewChild()
	c.Variables = s.vars
	return c
}

// value evaluates an argument. A reference argument is first tried with resources as
// addresses, and only when that fails (the expression reads attributes of what it
// refers to) with resources as objects.
func (s *instanceScope) value(a *schema.Attr, expr hcl.Expression) (cty.Value, hcl.Diagnostics) {
	if a.Ref != "" {
		if v, hd := s.eval(expr, true); !hd.HasErrors() {
			return v, hd
		}
	}
	return s.eval(expr, false)
}

// keepStrings records a top-level argument's elements as strings and instances, when
// known.
func (s *instanceScope) keepStrings(body *schema.BodyContent, name string, av argValue) {
	if av.strs == nil || body != s.block.res.Body {
		return
	}
	if s.refs == nil {
		s.refs = map[string]argValue{}
	}
	s.refs[name] = av
}

// evalBody evaluates a body's arguments and nested blocks, by position in its spec.
func evalBody(body *schema.BodyContent, sc *instanceScope) ([]cty.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	vals := make([]cty.Value, len(body.Spec.Attrs))
	next := 0 // the next of body.Args
	for i, a := range body.Spec.Attrs {
		if a.IsBlock() {
			nb := body.Blocks[a.Name]
			if nb == nil {
				vals[i] = cty.NullVal(a.Nested.ImpliedType())
				continue
			}
			marked := len(sc.sensitive)
			nested, d := evalBody(nb.Body, sc)
			if len(sc.sensitive) > marked {
				sc.sensitive = append(sc.sensitive[:marked], a.Name)
			}
			diags = diags.Append(d)
			m := make(map[string]cty.Value, len(nested))
			for j, na := range a.Nested.Attrs {
				m[na.Name] = nested[j]
			}
			vals[i] = cty.ObjectVal(m)
			continue
		}
		if next == len(body.Args) || body.Args[next].Index != i {
			vals[i] = a.DefaultOrNull()
			continue
		}
		expr := body.Args[next].Expr
		next++
		if av, ok := sc.block.arg(expr); ok {
			vals[i] = av.v
			diags = diags.Append(av.diags)
			if av.sensitive {
				sc.sensitive = append(sc.sensitive, a.Name)
			}
			sc.keepStrings(body, a.Name, av)
			continue
		}
		if a.Ref != "" && sc.block.quoted(expr) {
			// A quoted address would give no dependency edge, so it is not a reference.
			diags = diags.Append(diag.Errorf(expr.Range(), "Reference written as a string",
				"%s must be a reference such as %s = %s.main, without quotes, so fabrica knows the dependency.", a.Name, a.Name, a.Ref))
			vals[i] = cty.NullVal(a.Type)
			continue
		}
		av := evalArg(a, expr, sc)
		sc.block.keepArg(expr, av)
		vals[i] = av.v
		diags = diags.Append(av.diags)
		if av.sensitive {
			sc.sensitive = append(sc.sensitive, a.Name)
		}
		sc.keepStrings(body, a.Name, av)
	}
	return vals, diags
}

// evalArg evaluates and decodes one argument of an instance.
func evalArg(a *schema.Attr, expr hcl.Expression, sc *instanceScope) argValue {
	if v, strs, insts, ok := sc.block.e.referenceList(a, expr, sc.block.exprRef(expr)); ok {
		return argValue{v: v, strs: strs, insts: insts}
	}
	v, hd := sc.value(a, expr)
	if hd.HasErrors() {
		return argValue{v: cty.NullVal(a.Type), diags: diag.Diagnostics{}.Append(hd)}
	}
	sensitive := sc.block.e.hasSensitive && v.ContainsMarked()
	v, d := schema.DecodeArg(a, v, expr.Range())
	if d.HasErrors() || v == cty.NilVal {
		v = cty.NullVal(a.Type)
	}
	return argValue{v: v, diags: d, sensitive: sensitive}
}

// checkAddresses reports reference arguments that name no instance. References written
// as expressions are checked when the graph is built; this catches addresses given as
// strings, such as facility = "facility.${each.key}".
func (e *Evaluated) checkAddresses() diag.Diagnostics {
	found := make([]diag.Diagnostics, len(e.Instances))
	parallelFor(len(e.Instances), func(i int) { found[i] = e.checkInstanceAddresses(e.Instances[i]) })
	var diags diag.Diagnostics
	for _, d := range found {
		diags = diags.Append(d)
	}
	return diags
}

func (e *Evaluated) checkInstanceAddresses(inst *schema.Instance) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, a := range inst.Resource.Spec.Attrs {
		if a.Ref == "" || !inst.IsSet(a.Name) {
			continue
		}
		var targets []string
		if a.Type == cty.String {
			targets = []string{inst.Str(a.Name)}
		} else if _, named := inst.ReferenceStrings(a.Name); named {
			continue // read from the instances they name (referenceList)
		} else {
			targets = inst.Strings(a.Name)
		}
		for _, t := range targets {
			if e.byAddr[t] != nil {
				continue
			}
			addr, err := addrs.ParseInstance(t)
			if err != nil {
				continue // DecodeArg has checked the address
			}
			if e.Config.Resource(addr.Resource) == nil {
				var same []string
				for _, r := range e.Config.Resources {
					if r.Addr.Kind == addr.Kind {
						same = append(same, r.Addr.Name)
					}
				}
				diags = diags.Append(diag.Errorf(inst.Range(a.Name), "Reference to undeclared resource",
					"%s refers to %s, but no %s named %q is declared%s.", a.Name, t, addr.Kind, addr.Name, didYouMean(addr.Name, same)))
			} else {
				diags = diags.Append(diag.Errorf(inst.Range(a.Name), "Reference to undeclared resource instance",
					"%s refers to %s, but %s has no instance with that key. Check the index or key against its count or for_each.", a.Name, t, addr.Resource))
			}
			break
		}
	}
	return diags
}

// resourceValue is what a reference to a whole resource evaluates to: one object, a tuple
// of objects (count) or an object of objects (for_each). Built once per resource, on its
// first reference; i is the block's position in Config.Resources.
func (e *Evaluated) resourceValue(i int) cty.Value {
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	b := &e.blocks[i]
	if b.value != cty.NilVal {
		return b.value
	}
	res := e.Config.Resources[i]
	var v cty.Value
	switch {
	case res.Count != nil:
		elems := make([]cty.Value, len(b.insts))
		for i, inst := range b.insts {
			elems[i] = instanceObject(inst)
		}
		v = cty.TupleVal(elems)
	case res.ForEach != nil:
		m := make(map[string]cty.Value, len(b.insts))
		for _, inst := range b.insts {
			m[inst.Addr.Key.Str] = instanceObject(inst)
		}
		v = cty.ObjectVal(m)
	case len(b.insts) == 1:
		v = instanceObject(b.insts[0])
	default:
		v = cty.DynamicVal
	}
	b.value = v
	return v
}

// resourceAddresses is resourceValue with each instance as its address string.
func (e *Evaluated) resourceAddresses(i int) cty.Value {
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	b := &e.blocks[i]
	if b.addrs != cty.NilVal {
		return b.addrs
	}
	res := e.Config.Resources[i]
	var v cty.Value
	switch {
	case res.Count != nil:
		elems := b.counted
		if elems == nil {
			elems = make([]cty.Value, len(b.insts))
			for i, inst := range b.insts {
				elems[i] = cty.StringVal(inst.Address())
			}
		}
		v = cty.TupleVal(elems)
	case res.ForEach != nil:
		m := make(map[string]cty.Value, len(b.insts))
		for _, inst := range b.insts {
			m[inst.Addr.Key.Str] = cty.StringVal(inst.Address())
		}
		v = cty.ObjectVal(m)
	case len(b.insts) == 1:
		v = cty.StringVal(b.insts[0].Address())
	default:
		v = cty.DynamicVal
	}
	b.addrs = v
	return v
}

// countedAddresses returns the address strings of the block numbered i when it has
// count, in index order, or false when it has not (or failed). They are recorded with
// the block's instances, between waves, so reading them needs no lock.
func (e *Evaluated) countedAddresses(i int) ([]cty.Value, bool) {
	elems := e.blocks[i].counted
	return elems, elems != nil
}

// instanceObject is the value of a reference to one instance: its arguments, derived
// figures, address and name.
func instanceObject(inst *schema.Instance) cty.Value {
	spec := inst.Resource.Spec
	m := make(map[string]cty.Value, len(spec.Attrs)+len(spec.Derived)+2)
	for i, a := range spec.Attrs {
		m[a.Name] = inst.Values[i]
	}
	for _, name := range spec.Derived {
		if v, ok := inst.Derived[name]; ok {
			m[name] = v
		} else {
			m[name] = cty.NullVal(cty.DynamicPseudoType)
		}
	}
	m[schema.AddressAttr] = cty.StringVal(inst.Addr.String())
	m[schema.NameAttr] = cty.StringVal(inst.Addr.Name)
	return cty.ObjectVal(m)
}

// addAggregatesToFacilities puts each facility's aggregates into its reference value, so
// outputs can show them; resources never see them (that would be a cycle).
func (e *Evaluated) addAggregatesToFacilities() {
	for _, f := range e.Facilities {
		inst := e.byAddr[f.Address]
		if inst == nil {
			continue
		}
		for k, v := range f.DerivedValues() {
			inst.Derived[k] = v
		}
		e.blocks[inst.Resource.Index].value = cty.NilVal
	}
}

func (e *Evaluated) String() string { return fmt.Sprintf("%d instances", len(e.Instances)) }

// quotedAddress reports whether a reference argument was written as a constant string
// (or a list holding one) instead of a reference.
func quotedAddress(expr hcl.Expression) bool {
	if len(expr.Variables()) > 0 {
		return false
	}
	v, hd := expr.Value(nil)
	if hd.HasErrors() || v.IsNull() || !v.IsWhollyKnown() {
		return false
	}
	if v.Type() == cty.String {
		return true
	}
	if v.Type().IsTupleType() || v.Type().IsListType() {
		for it := v.ElementIterator(); it.Next(); {
			if _, e := it.Element(); e.Type() == cty.String {
				return true
			}
		}
	}
	return false
}

// isLiteral reports whether an expression is a constant the parser already knows, the
// common case for most arguments of a large pool.
// literalValue is a literal's value (see isLiteral). A quoted string without
// interpolation is its one part's value: the template would build the same string
// again, and normalize it again (the part's value is normalized already).
func literalValue(expr hcl.Expression) (cty.Value, hcl.Diagnostics) {
	if t, ok := expr.(*hclsyntax.TemplateExpr); ok && len(t.Parts) == 1 {
		if lit, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String && lit.Val.IsKnown() && !lit.Val.IsNull() && !lit.Val.IsMarked() {
			return lit.Val, nil
		}
	}
	return expr.Value(nil)
}

func isLiteral(expr hcl.Expression) bool {
	switch x := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return true
	case *hclsyntax.TemplateExpr:
		return x.IsStringLiteral()
	case *hclsyntax.TemplateWrapExpr:
		return isLiteral(x.Wrapped)
	}
	return false
}
