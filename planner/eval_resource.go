package planner

import (
	"fmt"

	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// maxErrorsPerResource bounds the diagnostics one counted block reports, so a mistake in
// a block of 100,000 instances gives a readable error, not 100,000 of them.
const maxErrorsPerResource = 10

func (e *Evaluated) evalResource(res *schema.Resource, r *refs) diag.Diagnostics {
	ctx := e.scope(r)
	exps, diags := e.expand(res, ctx)
	if diags.HasErrors() {
		e.resValues[res.Addr] = cty.DynamicVal
		return diags
	}
	insts := make([]*schema.Instance, 0, len(exps))
	failed := 0
	for _, x := range exps {
		inst := &schema.Instance{Addr: res.Addr.Instance(x.key), Resource: res, Each: x.each}
		vals, d := evalBody(res.Body, instanceScope(ctx, res, x))
		inst.Values = vals
		if !d.HasErrors() {
			d = d.Append(schema.Derive(inst, e))
		}
		diags = diags.Append(d)
		if d.HasErrors() {
			if failed++; failed == maxErrorsPerResource && len(exps) > failed {
				diags = diags.Append(diag.Errorf(res.DeclRange, "Too many errors",
					"Stopped checking %s after %d failing instances; fix the errors above and run again.", res.Addr, failed))
				break
			}
		}
		insts = append(insts, inst)
		e.byAddr[inst.Addr.String()] = inst
	}
	e.Instances = append(e.Instances, insts...)
	e.byRes[res.Addr] = insts
	if diags.HasErrors() {
		e.resValues[res.Addr] = cty.DynamicVal
	}
	return diags
}

// instanceScope adds count.index or each.key/each.value to a block's scope.
func instanceScope(ctx *hcl.EvalContext, res *schema.Resource, x expansion) *hcl.EvalContext {
	switch {
	case res.Count != nil:
		c := ctx.NewChild()
		c.Variables = map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(x.key.Int))})}
		return c
	case res.ForEach != nil:
		c := ctx.NewChild()
		c.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(x.key.Str), "value": x.each})}
		return c
	}
	return ctx
}

// evalBody evaluates a body's arguments and nested blocks, by position in its spec.
func evalBody(body *schema.BodyContent, ctx *hcl.EvalContext) ([]cty.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	vals := make([]cty.Value, len(body.Spec.Attrs))
	for i, a := range body.Spec.Attrs {
		if a.IsBlock() {
			nb := body.Blocks[a.Name]
			if nb == nil {
				vals[i] = cty.NullVal(a.Nested.ImpliedType())
				continue
			}
			nested, d := evalBody(nb.Body, ctx)
			diags = diags.Append(d)
			m := make(map[string]cty.Value, len(nested))
			for j, na := range a.Nested.Attrs {
				m[na.Name] = nested[j]
			}
			vals[i] = cty.ObjectVal(m)
			continue
		}
		at := body.Attrs[a.Name]
		if at == nil {
			vals[i] = a.DefaultOrNull()
			continue
		}
		if a.Ref != "" && quotedAddress(at.Expr) {
			// A quoted address would give no dependency edge, so it is not a reference.
			diags = diags.Append(diag.Errorf(at.Expr.Range(), "Reference written as a string",
				"%s must be a reference such as %s = %s.main, without quotes, so fabrica knows the dependency.", a.Name, a.Name, a.Ref))
			vals[i] = cty.NullVal(a.Type)
			continue
		}
		v, hd := at.Expr.Value(ctx)
		if hd.HasErrors() {
			diags = diags.Append(hd)
			vals[i] = cty.NullVal(a.Type)
			continue
		}
		v, d := schema.DecodeArg(a, v, at.Expr.Range())
		diags = diags.Append(d)
		if d.HasErrors() || v == cty.NilVal {
			v = cty.NullVal(a.Type)
		}
		vals[i] = v
	}
	return vals, diags
}

// checkAddresses reports reference arguments that name no instance. References written
// as expressions are checked when the graph is built; this catches addresses given as
// strings, such as facility = "facility.${each.key}".
func (e *Evaluated) checkAddresses() diag.Diagnostics {
	var diags diag.Diagnostics
	for _, inst := range e.Instances {
		for _, a := range inst.Resource.Spec.Attrs {
			if a.Ref == "" || !inst.IsSet(a.Name) {
				continue
			}
			targets := inst.Strings(a.Name)
			if a.Type == cty.String {
				targets = []string{inst.Str(a.Name)}
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
	}
	return diags
}

// resourceValue is what a reference to a whole resource evaluates to: one object, a tuple
// of objects (count) or an object of objects (for_each). Built once per resource, on its
// first reference.
func (e *Evaluated) resourceValue(a addrs.Resource) cty.Value {
	if v, ok := e.resValues[a]; ok {
		return v
	}
	res := e.Config.Resource(a)
	var v cty.Value
	switch {
	case res.Count != nil:
		insts := e.byRes[a]
		elems := make([]cty.Value, len(insts))
		for i, inst := range insts {
			elems[i] = instanceObject(inst)
		}
		v = cty.TupleVal(elems)
	case res.ForEach != nil:
		insts := e.byRes[a]
		m := make(map[string]cty.Value, len(insts))
		for _, inst := range insts {
			m[inst.Addr.Key.Str] = instanceObject(inst)
		}
		v = cty.ObjectVal(m)
	default:
		inst := e.byAddr[a.String()]
		if inst == nil {
			v = cty.DynamicVal
		} else {
			v = instanceObject(inst)
		}
	}
	e.resValues[a] = v
	return v
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
		delete(e.resValues, inst.Addr.Resource)
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
