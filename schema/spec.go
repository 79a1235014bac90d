package schema

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Attr describes one argument of a block: its type, whether it is required, the values
// it may take and the unit its name carries.
type Attr struct {
	Name     string
	Type     cty.Type
	Required bool
	// Enum lists the allowed values of a string argument.
	Enum []string
	// Ref names the resource kind this argument refers to; the value is that instance's
	// address (a list of addresses when Type is a list).
	Ref string
	// Int requires a number to be whole.
	Int bool
	// Word requires a string to be one word, as scheduler names are (a partition, a
	// namespace): no spaces or control characters.
	Word bool
	// Min and Max bound a number, when set.
	Min, Max *float64
	// Default is used when the argument is absent; cty.NilVal means null.
	Default cty.Value
	// Nested, when set, makes this a nested block rather than an argument.
	Nested *BlockSpec
	Doc    string
}

// Unit is the unit the argument's name carries in its suffix ("kW" for it_power_kw), or ""
// for unitless arguments.
func (a *Attr) Unit() string { return unitOfName(a.Name) }

// IsBlock reports whether the attribute is a nested block.
func (a *Attr) IsBlock() bool { return a.Nested != nil }

// BlockSpec describes the body of a block.
type BlockSpec struct {
	Attrs   []*Attr
	index   map[string]int
	hcl     *hcl.BodySchema
	objType cty.Type
	// argOf maps an argument's position in hcl.Attributes to its position in Attrs
	// (-1 for a meta-argument).
	argOf []int
}

// ImpliedType is the object type of the evaluated block.
func (b *BlockSpec) ImpliedType() cty.Type { return b.objType }

// DefaultOrNull returns the argument's default, or a null of its type.
func (a *Attr) DefaultOrNull() cty.Value {
	if a.Default != cty.NilVal {
		return a.Default
	}
	return cty.NullVal(a.Type)
}

// KindSpec describes a resource kind.
type KindSpec struct {
	Name string
	BlockSpec
	// Derived lists the read-only attributes fabrica computes for each instance.
	Derived []string
	// Doc is a one-line description of what the kind declares.
	Doc string
}

// Index returns the position of the named attribute in Attrs, or -1.
func (b *BlockSpec) Index(name string) int {
	if i, ok := b.index[name]; ok {
		return i
	}
	return -1
}

// Attr returns the named attribute, or nil.
func (b *BlockSpec) Attr(name string) *Attr {
	if i := b.Index(name); i >= 0 {
		return b.Attrs[i]
	}
	return nil
}

// Names returns every argument and block name, for "did you mean" suggestions.
func (b *BlockSpec) Names() []string {
	out := make([]string, len(b.Attrs))
	for i, a := range b.Attrs {
		out[i] = a.Name
	}
	return out
}

func (b *BlockSpec) init(meta bool) {
	b.index = make(map[string]int, len(b.Attrs))
	s := &hcl.BodySchema{}
	types := make(map[string]cty.Type, len(b.Attrs))
	for i, a := range b.Attrs {
		b.index[a.Name] = i
		types[a.Name] = a.Type
		if a.Nested != nil {
			a.Nested.init(false)
			a.Type = a.Nested.objType
			types[a.Name] = a.Type
			s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: a.Name})
			continue
		}
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
		b.argOf = append(b.argOf, i)
	}
	if meta {
		s.Attributes = append(s.Attributes,
			hcl.AttributeSchema{Name: "count"}, hcl.AttributeSchema{Name: "for_each"},
			hcl.AttributeSchema{Name: "depends_on"}, hcl.AttributeSchema{Name: "provider"})
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: "lifecycle"})
		b.argOf = append(b.argOf, -1, -1, -1, -1)
	}
	b.hcl = s
	b.objType = cty.Object(types)
}

// unitOfName maps a name suffix to its unit.
func unitOfName(name string) string {
	for _, u := range unitSuffixes {
		if strings.HasSuffix(name, u.suffix) {
			return u.unit
		}
	}
	return ""
}

var unitSuffixes = []struct{ suffix, unit string }{
	{"_kw", "kW"}, {"_w", "W"}, {"_mw", "MW"}, {"_gbps", "Gbps"}, {"_tb", "TB"},
	{"_gb", "GB"}, {"_minutes", "minutes"}, {"_hours", "hours"}, {"_days", "days"},
	{"_km", "km"}, {"_tb_per_day", "TB/day"},
}

func ptr(f float64) *float64 { return &f }

// Helpers that keep the kind tables below readable.
func str(name string, enum ...string) *Attr { return &Attr{Name: name, Type: cty.String, Enum: enum} }
func num(name string) *Attr                 { return &Attr{Name: name, Type: cty.Number, Min: ptr(0)} }
func whole(name string) *Attr               { return &Attr{Name: name, Type: cty.Number, Int: true, Min: ptr(0)} }
func boolean(name string) *Attr             { return &Attr{Name: name, Type: cty.Bool} }
func ref(name, kind string) *Attr           { return &Attr{Name: name, Type: cty.String, Ref: kind} }
func refs(name, kind string) *Attr          { return &Attr{Name: name, Type: cty.List(cty.String), Ref: kind} }
func block(name string, attrs ...*Attr) *Attr {
	return &Attr{Name: name, Type: cty.DynamicPseudoType, Nested: &BlockSpec{Attrs: attrs}}
}

func (a *Attr) req() *Attr                   { a.Required = true; return a }
func (a *Attr) word() *Attr                  { a.Word = true; return a }
func (a *Attr) between(lo, hi float64) *Attr { a.Min, a.Max = ptr(lo), ptr(hi); return a }
func (a *Attr) atLeast(lo float64) *Attr     { a.Min = ptr(lo); return a }
func (a *Attr) def(v cty.Value) *Attr        { a.Default = v; return a }
