package planner

import (
	"fmt"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"math/big"
	"sort"
	"sync"

	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/fabrica-iac/fabrica/schema/catalog"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Evaluated is a configuration evaluated statically: every resource expanded into
// instances with their arguments and derived figures, local and output values, and the
// per-facility aggregates.
type Evaluated struct {
	Config      *schema.Config
	Variables   map[string]cty.Value
	Locals      map[string]cty.Value
	Outputs     map[string]cty.Value
	DeviceTypes map[string]catalog.DeviceType
	// Instances in configuration order, then key order.
	Instances []*schema.Instance
	// Facilities are the aggregates per facility instance, in address order.
	Facilities []*schema.FacilitySummary
	// Aggregates is the running sum behind Facilities, for plans to derive "before".
	Aggregates *schema.Aggregator

	limit   int
	cacheMu sync.Mutex
	// hasSensitive is set when a variable is sensitive; only then are values checked
	// for its mark.
	hasSensitive bool
	scopeMu      sync.Mutex
	scopes       map[string]*hcl.EvalContext
	declRanges   map[*schema.Resource]*plans.Range
	// dependencies lists, per resource, the resources it depends on: worked out beside
	// the evaluation for plans (Evaluate), on first use otherwise (EvaluateForValidation).
	dependencies func() map[addrs.Resource][]string
	varObject    cty.Value
	byAddr       map[string]*schema.Instance
	// blocks holds what evaluation knows of each resource block, by its position in
	// Config.Resources (its number in the graph).
	blocks []evaluatedBlock
}

// evaluatedBlock is a resource block's instances and the values references to it read,
// while the configuration is evaluated.
type evaluatedBlock struct {
	insts []*schema.Instance
	// counted holds the instances' addresses, for a block with count: the elements
	// of addrs.
	counted []cty.Value
	// single is set for a block of one instance evaluated without errors.
	single single
	// value and addrs are what a reference to the whole block reads, as objects
	// (resourceValue) or as addresses (resourceAddresses); made on first use, under
	// Evaluated.cacheMu.
	value, addrs cty.Value
}

// Instance returns the instance with the given address, or nil.
func (e *Evaluated) Instance(addr string) *schema.Instance { return e.byAddr[addr] }

// DeviceType returns a device type from the catalog merged with user device_type blocks.
func (e *Evaluated) DeviceType(name string) (catalog.DeviceType, bool) {
	dt, ok := e.DeviceTypes[name]
	return dt, ok
}

// DeviceTypeNames lists the known device types, for suggestions.
func (e *Evaluated) DeviceTypeNames() []string { return sortedKeys(e.DeviceTypes) }

// Evaluate evaluates a loaded configuration: variables, the dependency graph, every
// local, resource instance and output in dependency order, then validation rules and
// derived figures. Diagnostics are sorted and de-duplicated.
func Evaluate(cfg *schema.Config, in InputVars) (*Evaluated, diag.Diagnostics) {
	return evaluate(cfg, in, maxInstances, true)
}

// EvaluateForValidation is Evaluate for validate, which does not read the resources'
// dependency lists that plans need: they are worked out only if asked for (for a
// configuration of 100,000 blocks, 0.3 s of CPU).
func EvaluateForValidation(cfg *schema.Config, in InputVars) (*Evaluated, diag.Diagnostics) {
	return evaluate(cfg, in, maxInstances, false)
}

// maxInstances bounds the instances of one configuration, so a typo such as
// count = 40000000 gives an error instead of exhausting memory.
const maxInstances = 10_000_000

func evaluate(cfg *schema.Config, in InputVars, limit int, dependencies bool) (*Evaluated, diag.Diagnostics) {
	// The maps of instances are sized for a block of one instance each at least: filled
	// one block at a time between waves, 100,000 blocks made them grow (and rehash)
	// seventeen times, on one core while the other waited.
	size := len(cfg.Resources)
	e := &Evaluated{
		limit:     limit,
		Config:    cfg,
		Locals:    map[string]cty.Value{},
		Outputs:   map[string]cty.Value{},
		Instances: make([]*schema.Instance, 0, size),
		byAddr:    make(map[string]*schema.Instance, size),
		blocks:    make([]evaluatedBlock, size),
		scopes:    map[string]*hcl.EvalContext{},
	}
	vars, diags := ResolveVariables(cfg, in)
	if diags.HasErrors() {
		return e, finish(diags)
	}
	e.Variables = markSensitive(cfg, vars)
	for _, v := range cfg.Variables {
		e.hasSensitive = e.hasSensitive || v.Sensitive
	}
	e.varObject = cty.ObjectVal(e.Variables)
	diags = diags.Append(checkSettings(cfg), e.evalDeviceTypes())
	g, d := buildGraph(cfg)
	diags = diags.Append(d)
	if diags.HasErrors() {
		return e, finish(diags)
	}
	order, cycle := g.OrderIndices()
	if cycle != nil {
		return e, finish(diags.Append(cycleDiagnostic(cfg, cycle)))
	}
	// Only plans need the dependency lists; for them they are worked out beside the
	// evaluation, on a core that the evaluation's serial steps leave idle.
	if dependencies {
		deps := make(chan map[addrs.Resource][]string, 1)
		go func() { deps <- resourceDependencies(g) }()
		defer func() {
			d := <-deps
			e.dependencies = func() map[addrs.Resource][]string { return d }
		}()
	} else {
		e.dependencies = sync.OnceValue(func() map[addrs.Resource][]string { return resourceDependencies(g) })
	}
	var outputs []int
	// Waves: every block of a wave depends only on blocks of earlier waves, so a wave's
	// blocks are evaluated at once.
	for _, wave := range g.LevelIndices(order) {
		blocks := wave[:0:0]
		for _, v := range wave {
			if g.isOutput(v) {
				outputs = append(outputs, v) // after the aggregates, which outputs may read
			} else {
				blocks = append(blocks, v)
			}
		}
		diags = diags.Append(e.evalWave(blocks, g))
	}
	if diags.HasErrors() {
		return e, finish(diags)
	}
	// The facilities are summed up beside the address checks (which use both cores):
	// the sums take one, and are dropped when a check fails.
	type summary struct {
		agg   *schema.Aggregator
		facs  []*schema.FacilitySummary
		diags diag.Diagnostics
	}
	summed := make(chan summary, 1)
	go func() {
		var s summary
		s.agg, s.facs, s.diags = schema.Summarize(e.Instances, e)
		summed <- s
	}()
	if d := e.checkAddresses(); d.HasErrors() {
		<-summed
		return e, finish(diags.Append(d))
	}
	s := <-summed
	e.Aggregates, e.Facilities = s.agg, s.facs
	diags = diags.Append(s.diags)
	e.addAggregatesToFacilities()
	for _, v := range outputs {
		diags = diags.Append(e.evalOutput(g.Vertex(v).name, g.refs[v]))
	}
	// The reference values are only needed while evaluating; drop them so a large
	// configuration's objects can be collected (the dependency lists need only the
	// graph's edges).
	e.blocks, e.scopes, g.refs = nil, nil, nil
	return e, finish(diags)
}

func finish(d diag.Diagnostics) diag.Diagnostics {
	d = d.Dedup()
	d.Sort()
	return d
}

// scope builds the variables an expression set needs: only the referenced locals and
// resources, so a reference to one instance costs O(1) whatever the size of the config.
// Resources appear as objects (every argument and derived figure).
func (e *Evaluated) scope(r *refs) *hcl.EvalContext {
	return e.sharedScope("o:", r, e.resourceValue)
}

// addressScope is scope with every resource as its address string (a tuple or object of
// them for count and for_each): what reference arguments need, at a fraction of the
// cost of objects.
func (e *Evaluated) addressScope(r *refs) *hcl.EvalContext {
	return e.sharedScope("a:", r, e.resourceAddresses)
}

// sharedScope returns one context per set of roots: the 100,000 blocks of a per-node
// configuration that all name facility.main share one. Contexts are read-only once built.
func (e *Evaluated) sharedScope(prefix string, r *refs, value func(int) cty.Value) *hcl.EvalContext {
	key := prefix + r.key()
	e.scopeMu.Lock()
	ctx, ok := e.scopes[key]
	e.scopeMu.Unlock()
	if ok {
		return ctx
	}
	ctx = e.buildScope(r, value)
	e.scopeMu.Lock()
	e.scopes[key] = ctx
	e.scopeMu.Unlock()
	return ctx
}

func (e *Evaluated) buildScope(r *refs, value func(int) cty.Value) *hcl.EvalContext {
	vars := make(map[string]cty.Value, 4)
	vars["var"] = e.varObject
	if len(r.locals) > 0 {
		m := make(map[string]cty.Value, len(r.locals))
		for _, l := range r.locals {
			m[l] = e.Locals[l]
		}
		vars["local"] = cty.ObjectVal(m)
	}
	byKind := map[string]map[string]cty.Value{}
	for _, i := range r.resources {
		a := e.Config.Resources[i].Addr
		if byKind[a.Kind] == nil {
			byKind[a.Kind] = map[string]cty.Value{}
		}
		byKind[a.Kind][a.Name] = value(int(i))
	}
	for k, m := range byKind {
		vars[k] = cty.ObjectVal(m)
	}
	return &hcl.EvalContext{Variables: vars, Functions: functions}
}

func (e *Evaluated) evalLocal(name string, r *refs) (cty.Value, diag.Diagnostics) {
	v, hd := e.Config.Locals[name].Expr.Value(e.scope(r))
	if hd.HasErrors() {
		v = cty.DynamicVal
	}
	return v, diag.Diagnostics{}.Append(hd)
}

func (e *Evaluated) evalOutput(name string, r *refs) diag.Diagnostics {
	v, hd := e.Config.Outputs[name].Expr.Value(e.scope(r))
	e.Outputs[name] = v
	return diag.Diagnostics{}.Append(hd)
}

// expansion is one instance to evaluate: its key and its per-instance scope.
type expansion struct {
	key  addrs.Key
	each cty.Value
}

func (e *Evaluated) expand(res *schema.Resource, sc *blockScope) ([]expansion, diag.Diagnostics) {
	switch {
	case res.Count != nil:
		ctx, _ := sc.context(res.Count, false)
		v, hd := res.Count.Value(ctx)
		if hd.HasErrors() {
			return nil, diag.Diagnostics{}.Append(hd)
		}
		n, d := countValue(v, res.Count.Range())
		if d != nil {
			return nil, diag.Diagnostics{*d}
		}
		if len(e.Instances)+n > e.limit {
			return nil, diag.Diagnostics{diag.Errorf(res.Count.Range(), "Too many instances",
				"count = %d would take the configuration past %d resource instances, the most fabrica evaluates. Check the count expression.", n, e.limit)}
		}
		out := make([]expansion, n)
		for i := range out {
			out[i] = expansion{key: addrs.IntKeyOf(i)}
		}
		return out, nil
	case res.ForEach != nil:
		ctx, _ := sc.context(res.ForEach, false)
		v, hd := res.ForEach.Value(ctx)
		if hd.HasErrors() {
			return nil, diag.Diagnostics{}.Append(hd)
		}
		exps, d := forEachValue(v, res.ForEach.Range())
		if len(e.Instances)+len(exps) > e.limit {
			return nil, diag.Diagnostics{diag.Errorf(res.ForEach.Range(), "Too many instances",
				"for_each would take the configuration past %d resource instances, the most fabrica evaluates.", e.limit)}
		}
		return exps, d
	}
	return []expansion{{}}, nil
}

func countValue(v cty.Value, rng hcl.Range) (int, *diag.Diagnostic) {
	bad := func(detail string) (int, *diag.Diagnostic) {
		d := diag.Errorf(rng, "Invalid count argument", "%s", detail)
		return 0, &d
	}
	if v.IsNull() || v.Type() != cty.Number {
		return bad("count must be a whole number, such as count = 4 or count = length(var.racks).")
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() || bf.Sign() < 0 {
		return bad(fmt.Sprintf("count must be a whole number of 0 or more; got %s.", bf.Text('f', -1)))
	}
	n, acc := bf.Int64()
	if acc != big.Exact || n > maxInstances {
		return bad(fmt.Sprintf("count is too large; a configuration may have at most %d instances.", maxInstances))
	}
	return int(n), nil
}

func forEachValue(v cty.Value, rng hcl.Range) ([]expansion, diag.Diagnostics) {
	t := v.Type()
	if v.IsNull() || !(t.IsMapType() || t.IsObjectType() || (t.IsSetType() && t.ElementType() == cty.String)) {
		return nil, diag.Diagnostics{diag.Errorf(rng, "Invalid for_each argument",
			"for_each must be a map, an object or a set of strings; got %s. Convert a list with toset(...).", t.FriendlyName())}
	}
	var out []expansion
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		if k.IsNull() || k.Type() != cty.String {
			return nil, diag.Diagnostics{diag.Errorf(rng, "Invalid for_each argument", "for_each keys must be strings.")}
		}
		if t.IsSetType() {
			val = k
		}
		out = append(out, expansion{key: addrs.StringKeyOf(k.AsString()), each: val})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key.Str < out[j].key.Str })
	return out, nil
}

// SensitiveMark marks values that derive from a sensitive variable.
const SensitiveMark = "sensitive"

// markSensitive marks the values of variables declared sensitive, so evaluation carries
// the mark into whatever uses them.
func markSensitive(cfg *schema.Config, vars map[string]cty.Value) map[string]cty.Value {
	out := make(map[string]cty.Value, len(vars))
	for name, v := range vars {
		if decl := cfg.Variables[name]; decl != nil && decl.Sensitive {
			v = v.Mark(SensitiveMark)
		}
		out[name] = v
	}
	return out
}
