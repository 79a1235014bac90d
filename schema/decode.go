package schema

import (
	"fmt"
	"slices"

	"github.com/fabrica-iac/fabrica/internal/hclsyntax"
	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

var settingsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "required_version"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type"}}, {Type: "policy"}, {Type: "encryption"}},
}

var policySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "bundles"}, {Name: "params"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "waiver", LabelNames: []string{"rule"}}},
}

var waiverSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "address"}, {Name: "reason", Required: true}, {Name: "expires", Required: true},
}}

func (c *Config) addSettings(b *hcl.Block) diag.Diagnostics {
	if c.Settings != nil {
		return diag.Diagnostics{diag.Errorf(b.DefRange, "Duplicate fabrica block",
			"Only one fabrica settings block is allowed; the first is at %s. Merge them into one.", c.Settings.DeclRange.String())}
	}
	content, hd := b.Body.Content(settingsSchema)
	diags := diag.Diagnostics{}.Append(hd)
	s := &Settings{DeclRange: b.DefRange}
	if a := content.Attributes["required_version"]; a != nil {
		s.RequiredVersion = a.Expr
	}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "backend":
			if s.Backend != nil {
				diags = diags.Append(duplicate("backend block", blk.Labels[0], blk.DefRange, s.Backend.DeclRange))
				continue
			}
			s.Backend = &Backend{Type: blk.Labels[0], Config: blk.Body, DeclRange: blk.DefRange}
		case "policy":
			p, d := decodePolicy(blk)
			diags = diags.Append(d)
			s.Policy = p
		case "encryption":
			s.Encryption = &Encryption{Config: blk.Body, DeclRange: blk.DefRange}
		}
	}
	c.Settings = s
	return diags
}

func decodePolicy(b *hcl.Block) (*PolicySettings, diag.Diagnostics) {
	content, hd := b.Body.Content(policySchema)
	diags := diag.Diagnostics{}.Append(hd)
	p := &PolicySettings{DeclRange: b.DefRange}
	if a := content.Attributes["bundles"]; a != nil {
		p.Bundles = a.Expr
	}
	if a := content.Attributes["params"]; a != nil {
		p.Params = a.Expr
	}
	for _, wb := range content.Blocks {
		wc, wd := wb.Body.Content(waiverSchema)
		diags = diags.Append(wd)
		w := &Waiver{Rule: wb.Labels[0], DeclRange: wb.DefRange}
		if a := wc.Attributes["address"]; a != nil {
			w.Address = a.Expr
		}
		if a := wc.Attributes["reason"]; a != nil {
			w.Reason = a.Expr
		}
		if a := wc.Attributes["expires"]; a != nil {
			w.Expires = a.Expr
		}
		p.Waivers = append(p.Waivers, w)
	}
	return p, diags
}

func decodeProvider(b *hcl.Block) (*Provider, diag.Diagnostics) {
	p := &Provider{Name: b.Labels[0], Config: b.Body, DeclRange: b.DefRange}
	// alias is the one argument the core reads; the provider validates the rest.
	content, rest, hd := b.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "alias"}}})
	diags := diag.Diagnostics{}.Append(hd)
	if a := content.Attributes["alias"]; a != nil {
		v, d := a.Expr.Value(nil)
		diags = diags.Append(d)
		if !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			p.Alias = v.AsString()
		} else if !d.HasErrors() {
			diags = diags.Append(diag.Errorf(a.Expr.Range(), "Invalid provider alias", "The alias must be a literal string, such as alias = \"east\"."))
		}
	}
	p.Config = rest
	return p, diags
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true},
}}

func (c *Config) addVariable(b *hcl.Block) diag.Diagnostics {
	name := b.Labels[0]
	if prev := c.Variables[name]; prev != nil {
		return diag.Diagnostics{duplicate("variable", name, b.LabelRanges[0], prev.DeclRange)}
	}
	content, hd := b.Body.Content(variableSchema)
	diags := diag.Diagnostics{}.Append(hd)
	v := &Variable{Name: name, Type: cty.DynamicPseudoType, DeclRange: b.DefRange}
	if a := content.Attributes["type"]; a != nil {
		ty, td := typeexpr.TypeConstraint(a.Expr)
		diags = diags.Append(td)
		if !td.HasErrors() {
			v.Type = ty
		}
	}
	if a := content.Attributes["description"]; a != nil {
		v.Description = constString(a, &diags)
	}
	if a := content.Attributes["sensitive"]; a != nil {
		val, d := a.Expr.Value(nil)
		diags = diags.Append(d)
		if !d.HasErrors() {
			if val.Type() != cty.Bool || val.IsNull() {
				diags = diags.Append(diag.Errorf(a.Expr.Range(), "Invalid sensitive flag", "sensitive must be true or false."))
			} else {
				v.Sensitive = val.True()
			}
		}
	}
	if a := content.Attributes["default"]; a != nil {
		val, d := a.Expr.Value(nil)
		diags = diags.Append(d)
		if !d.HasErrors() {
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = diags.Append(diag.Errorf(a.Expr.Range(), "Invalid default value for variable",
					"The default value does not match the variable's type: %s.", err))
			} else {
				v.Default = conv
			}
		}
	}
	for _, vb := range content.Blocks {
		vc, vd := vb.Body.Content(validationSchema)
		diags = diags.Append(vd)
		if vd.HasErrors() {
			continue
		}
		v.Validations = append(v.Validations, &VariableValidation{
			Condition: vc.Attributes["condition"].Expr, ErrorMessage: vc.Attributes["error_message"].Expr, DeclRange: vb.DefRange,
		})
	}
	c.Variables[name] = v
	return diags
}

func constString(a *hcl.Attribute, diags *diag.Diagnostics) string {
	val, d := a.Expr.Value(nil)
	*diags = diags.Append(d)
	if d.HasErrors() {
		return ""
	}
	if val.Type() != cty.String || val.IsNull() {
		*diags = diags.Append(diag.Errorf(a.Expr.Range(), "Invalid "+a.Name, "%s must be a literal string.", a.Name))
		return ""
	}
	return val.AsString()
}

func (c *Config) addLocals(b *hcl.Block) diag.Diagnostics {
	attrs, hd := b.Body.JustAttributes()
	diags := diag.Diagnostics{}.Append(hd)
	for name, a := range attrs {
		if prev := c.Locals[name]; prev != nil {
			diags = diags.Append(duplicate("local value", name, a.NameRange, prev.DeclRange))
			continue
		}
		c.Locals[name] = &Local{Name: name, Expr: a.Expr, DeclRange: a.NameRange}
	}
	return diags
}

var outputSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "value", Required: true}, {Name: "description"}, {Name: "sensitive"},
}}

func (c *Config) addOutput(b *hcl.Block) diag.Diagnostics {
	name := b.Labels[0]
	if prev := c.Outputs[name]; prev != nil {
		return diag.Diagnostics{duplicate("output", name, b.LabelRanges[0], prev.DeclRange)}
	}
	content, hd := b.Body.Content(outputSchema)
	diags := diag.Diagnostics{}.Append(hd)
	if hd.HasErrors() {
		return diags
	}
	o := &Output{Name: name, Expr: content.Attributes["value"].Expr, DeclRange: b.DefRange}
	if a := content.Attributes["description"]; a != nil {
		o.Description = constString(a, &diags)
	}
	if a := content.Attributes["sensitive"]; a != nil {
		val, d := a.Expr.Value(nil)
		diags = diags.Append(d)
		if !d.HasErrors() {
			if val.Type() != cty.Bool || val.IsNull() {
				diags = diags.Append(diag.Errorf(a.Expr.Range(), "Invalid sensitive flag", "sensitive must be true or false."))
			} else {
				o.Sensitive = val.True()
			}
		}
	}
	c.Outputs[name] = o
	return diags
}

func (c *Config) addDeviceType(b *hcl.Block) diag.Diagnostics {
	name := b.Labels[0]
	if prev := c.DeviceTypes[name]; prev != nil {
		return diag.Diagnostics{duplicate("device type", name, b.LabelRanges[0], prev.DeclRange)}
	}
	content, hd := b.Body.Content(deviceTypeSpec.hcl)
	c.DeviceTypes[name] = &DeviceTypeBlock{Name: name, Attrs: content.Attributes, DeclRange: b.DefRange}
	return diag.Diagnostics{}.Append(hd)
}

var lifecycleSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "prevent_destroy"}, {Name: "create_before_destroy"}, {Name: "ignore_changes"},
}}

func (c *Config) addResource(b *hcl.Block) diag.Diagnostics {
	spec := kinds[b.Type]
	addr := addrs.Resource{Kind: b.Type, Name: b.Labels[0]}
	if prev := c.Resource(addr); prev != nil {
		return diag.Diagnostics{duplicate(b.Type+" resource", addr.Name, b.LabelRanges[0], prev.DeclRange)}
	}
	r := &Resource{Addr: addr, Spec: spec, DeclRange: b.DefRange, TypeRange: b.TypeRange, NameRange: b.LabelRanges[0]}
	body, content, diags := decodeBody(b.Body, &spec.BlockSpec)
	r.Body = body
	if a := content.Attributes["count"]; a != nil {
		r.Count = a.Expr
	}
	if a := content.Attributes["for_each"]; a != nil {
		r.ForEach = a.Expr
		if r.Count != nil {
			diags = diags.Append(diag.Errorf(a.NameRange, "Invalid combination of count and for_each",
				"The count and for_each meta-arguments are mutually exclusive: %s sets both. Keep count for a numbered pool or for_each for a keyed set, not both.", addr))
		}
	}
	if a := content.Attributes["depends_on"]; a != nil {
		rng := a.Expr.Range()
		r.DependsOnRange = &rng
		diags = diags.Append(r.decodeDependsOn(a))
	}
	if a := content.Attributes["provider"]; a != nil {
		rng := a.Expr.Range()
		r.ProviderRange = &rng
		trav, td := hcl.AbsTraversalForExpr(a.Expr)
		if td.HasErrors() || len(trav) > 2 {
			diags = diags.Append(diag.Errorf(rng, "Invalid provider reference",
				"The provider meta-argument takes a provider name, such as provider = sim or provider = slurm.east, without quotes."))
		} else {
			r.ProviderName = trav.RootName()
			if len(trav) == 2 {
				if at, ok := trav[1].(hcl.TraverseAttr); ok {
					r.ProviderName += "." + at.Name
				}
			}
		}
	}
	for _, lb := range content.Blocks {
		if lb.Type != "lifecycle" {
			continue
		}
		if r.Lifecycle.DeclRange != nil {
			diags = diags.Append(diag.Errorf(lb.DefRange, "Duplicate lifecycle block",
				"Only one lifecycle block is allowed in a resource; the first is at %s. Merge them into one.", r.Lifecycle.DeclRange.String()))
			continue
		}
		diags = diags.Append(r.decodeLifecycle(lb))
	}
	r.Index = len(c.Resources)
	c.resourceIndex.add(addr, r.Index)
	c.Resources = append(c.Resources, r)
	return diags
}

func (r *Resource) decodeDependsOn(a *hcl.Attribute) diag.Diagnostics {
	exprs, hd := hcl.ExprList(a.Expr)
	diags := diag.Diagnostics{}.Append(hd)
	for _, e := range exprs {
		trav, td := hcl.AbsTraversalForExpr(e)
		if td.HasErrors() {
			diags = diags.Append(diag.Errorf(e.Range(), "Invalid depends_on reference",
				"depends_on takes a list of resource references such as [fabric.compute, storage.ceph]."))
			continue
		}
		if root := trav.RootName(); root == "var" || root == "local" || root == "count" || root == "each" {
			diags = diags.Append(diag.Errorf(e.Range(), "Invalid depends_on reference",
				"depends_on lists resources, such as [fabric.compute, storage.ceph], but this entry refers to %s, which is not a resource. Remove it: a block is already evaluated after the variables and local values its arguments use.", root))
			continue
		}
		r.DependsOn = append(r.DependsOn, trav)
	}
	return diags
}

func (r *Resource) decodeLifecycle(b *hcl.Block) diag.Diagnostics {
	content, hd := b.Body.Content(lifecycleSchema)
	diags := diag.Diagnostics{}.Append(hd)
	rng := b.DefRange
	r.Lifecycle.DeclRange = &rng
	boolArg := func(name string) bool {
		a := content.Attributes[name]
		if a == nil {
			return false
		}
		v, d := a.Expr.Value(nil)
		diags = diags.Append(d)
		if d.HasErrors() {
			return false
		}
		if v.Type() != cty.Bool || v.IsNull() {
			diags = diags.Append(diag.Errorf(a.Expr.Range(), "Invalid lifecycle argument", "%s must be true or false.", name))
			return false
		}
		return v.True()
	}
	r.Lifecycle.PreventDestroy = boolArg("prevent_destroy")
	r.Lifecycle.CreateBeforeDestroy = boolArg("create_before_destroy")
	if a := content.Attributes["ignore_changes"]; a != nil {
		exprs, hd := hcl.ExprList(a.Expr)
		diags = diags.Append(hd)
		for _, e := range exprs {
			name := hcl.ExprAsKeyword(e)
			if name == "" || r.Spec.Index(name) < 0 {
				diags = diags.Append(diag.Errorf(e.Range(), "Invalid ignore_changes entry", "%s", ignoreChangesHint(r.Spec, r.Addr.Kind, e, name)))
				continue
			}
			r.Lifecycle.IgnoreChanges = append(r.Lifecycle.IgnoreChanges, name)
		}
	}
	return diags
}

// decodeBody decodes a body against spec, recursing into nested blocks. The returned
// hcl.BodyContent holds what the spec does not name, for the caller: the
// meta-arguments and meta-blocks of a resource. It is read-only (often shared).
func decodeBody(body hcl.Body, spec *BlockSpec) (*BodyContent, *hcl.BodyContent, diag.Diagnostics) {
	if sb, ok := body.(*hclsyntax.Body); ok {
		var buf [8]hclsyntax.Argument
		if args, blocks, ok := sb.QuickArguments(spec.hcl, buf[:0]); ok {
			return decodeSyntaxBody(sb, spec, args, blocks)
		}
	}
	content, hd := body.Content(spec.hcl)
	diags := diag.Diagnostics{}.Append(hd)
	out := &BodyContent{Spec: spec, MissingItemRange: body.MissingItemRange()}
	meta := &hcl.BodyContent{Attributes: hcl.Attributes{}}
	for name, at := range content.Attributes {
		if i := spec.Index(name); i >= 0 && !spec.Attrs[i].IsBlock() {
			out.Args = append(out.Args, Arg{Index: i, Expr: at.Expr})
		} else {
			meta.Attributes[name] = at
		}
	}
	slices.SortFunc(out.Args, byPosition)
	for _, b := range content.Blocks {
		a := spec.Attr(b.Type)
		if a == nil || a.Nested == nil {
			meta.Blocks = append(meta.Blocks, b) // meta blocks (lifecycle) are the caller's
			continue
		}
		diags = diags.Append(out.addNested(a, b.Body, b.DefRange))
	}
	return out, meta, diags
}

func byPosition(a, b Arg) int { return a.Index - b.Index }

// noMeta is the rest of a body that has no meta-arguments or meta-blocks.
var noMeta = &hcl.BodyContent{}

// decodeSyntaxBody is decodeBody for a native syntax body that QuickArguments has
// checked: no map of arguments and no copy of each is made.
func decodeSyntaxBody(sb *hclsyntax.Body, spec *BlockSpec, args []hclsyntax.Argument, blocks hclsyntax.Blocks) (*BodyContent, *hcl.BodyContent, diag.Diagnostics) {
	out := &BodyContent{Spec: spec, MissingItemRange: sb.MissingItemRange()}
	meta := noMeta
	n := 0
	for _, a := range args {
		if spec.argOf[a.Index] >= 0 {
			n++
		}
	}
	out.Args = make([]Arg, 0, n)
	for _, a := range args {
		if i := spec.argOf[a.Index]; i >= 0 {
			out.Args = append(out.Args, Arg{Index: i, Expr: a.Attr.Expr})
			continue
		}
		if meta == noMeta {
			meta = &hcl.BodyContent{Attributes: hcl.Attributes{}}
		}
		meta.Attributes[a.Attr.Name] = a.Attr.AsHCLAttribute()
	}
	slices.SortFunc(out.Args, byPosition) // a body's arguments come from a map, in any order
	var diags diag.Diagnostics
	for _, b := range blocks {
		a := spec.Attr(b.Type)
		if a == nil || a.Nested == nil {
			if meta == noMeta {
				meta = &hcl.BodyContent{}
			}
			meta.Blocks = append(meta.Blocks, b.AsHCLBlock()) // meta blocks (lifecycle) are the caller's
			continue
		}
		diags = diags.Append(out.addNested(a, b.Body, b.DefRange()))
	}
	return out, meta, diags
}

// addNested decodes a nested block such as protection { ... }.
func (out *BodyContent) addNested(a *Attr, body hcl.Body, rng hcl.Range) diag.Diagnostics {
	if prev := out.Blocks[a.Name]; prev != nil {
		return diag.Diagnostics{diag.Errorf(rng, "Duplicate "+a.Name+" block",
			"Only one %s block is allowed here; the first is at %s. Merge them into one.", a.Name, prev.DeclRange.String())}
	}
	nb, _, diags := decodeBody(body, a.Nested)
	if out.Blocks == nil { // most bodies have no nested block: no map for 100,000 of them
		out.Blocks = map[string]*NestedBlock{}
	}
	out.Blocks[a.Name] = &NestedBlock{Body: nb, DeclRange: rng}
	return diags
}

// ignoreChangesHint says what an ignore_changes entry must be, suggesting the argument
// the user probably meant. name is the entry as a bare name, or "" when it is not one.
func ignoreChangesHint(spec *KindSpec, kind string, e hcl.Expression, name string) string {
	if name == "" {
		if v, d := e.Value(nil); !d.HasErrors() && v.Type() == cty.String && !v.IsNull() && spec.Index(v.AsString()) >= 0 {
			return fmt.Sprintf("ignore_changes takes argument names without quotes: write %s, not %q.", v.AsString(), v.AsString())
		}
		return fmt.Sprintf("ignore_changes takes names of this %s's arguments, without quotes, such as [%s].", kind, spec.Attrs[0].Name)
	}
	if s := nameSuggestion(name, spec.Names()); s != "" {
		return fmt.Sprintf("A %s has no argument named %q. Did you mean %s?", kind, name, s)
	}
	return fmt.Sprintf("A %s has no argument named %q; ignore_changes takes names of its arguments, such as [%s].", kind, name, spec.Attrs[0].Name)
}
