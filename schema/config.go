package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/fabrica-iac/fabrica/schema/catalog"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Config is a loaded configuration directory: every block with its source range and its
// expressions still unevaluated (the planner evaluates them in dependency order).
type Config struct {
	Dir string
	// Sources holds each file's bytes by filename, for diagnostic snippets.
	Sources map[string][]byte
	// SettingsOnly marks a configuration read by LoadSettings: only files that can
	// declare the fabrica block were parsed, so it is not one to evaluate.
	SettingsOnly bool

	Settings    *Settings
	Providers   []*Provider
	Variables   map[string]*Variable
	Locals      map[string]*Local
	Outputs     map[string]*Output
	DeviceTypes map[string]*DeviceTypeBlock
	// Resources in declaration order (file name order, then position). A block's
	// Index is its position here.
	Resources     []*Resource
	resourceIndex nameIndex
}

// nameIndex finds a resource block's position by kind, then name: a map per kind keyed
// by name alone is looked up in a third of the time of one keyed by both.
type nameIndex map[string]map[string]int32

func (x nameIndex) add(a addrs.Resource, i int) {
	m := x[a.Kind]
	if m == nil {
		m = map[string]int32{}
		x[a.Kind] = m
	}
	m[a.Name] = int32(i)
}

// Resource returns the resource block with the given address, or nil.
func (c *Config) Resource(a addrs.Resource) *Resource {
	if i, ok := c.ResourceIndex(a.Kind, a.Name); ok {
		return c.Resources[i]
	}
	return nil
}

// ResourceIndex returns the position in Resources of the block with the given kind and
// name.
func (c *Config) ResourceIndex(kind, name string) (int, bool) {
	i, ok := c.resourceIndex[kind][name]
	return int(i), ok
}

// ResourceIndexAfter is ResourceIndex trying the block after prev first: a list of
// references usually names blocks in the order they are declared (a fabric's servers),
// and comparing one name costs a fraction of a lookup in a map of 100,000.
func (c *Config) ResourceIndexAfter(prev int, kind, name string) (int, bool) {
	if next := prev + 1; prev >= 0 && next < len(c.Resources) {
		if a := c.Resources[next].Addr; a.Name == name && a.Kind == kind {
			return next, true
		}
	}
	return c.ResourceIndex(kind, name)
}

// Settings is the `fabrica` block.
type Settings struct {
	RequiredVersion hcl.Expression
	Backend         *Backend
	Policy          *PolicySettings
	Encryption      *Encryption
	DeclRange       hcl.Range
}

// Encryption is `encryption { ... }` in the fabrica block: how state and plan files are
// encrypted at rest. Its body is decoded by the command that opens the backend.
type Encryption struct {
	Config    hcl.Body
	DeclRange hcl.Range
}

// Backend is `backend "TYPE" { ... }` in the fabrica block; its body is decoded by the
// backend itself.
type Backend struct {
	Type      string
	Config    hcl.Body
	DeclRange hcl.Range
}

// PolicySettings is `policy { ... }` in the fabrica block.
type PolicySettings struct {
	Bundles   hcl.Expression
	Params    hcl.Expression
	Waivers   []*Waiver
	DeclRange hcl.Range
}

// Waiver is `waiver "rule.id" { address, reason, expires }`.
type Waiver struct {
	Rule      string
	Address   hcl.Expression
	Reason    hcl.Expression
	Expires   hcl.Expression
	DeclRange hcl.Range
}

// Provider is a `provider "NAME" { ... }` block; the provider decodes its own body.
type Provider struct {
	Name      string
	Alias     string
	Config    hcl.Body
	DeclRange hcl.Range
}

// Variable is a `variable "NAME"` block.
type Variable struct {
	Name        string
	Type        cty.Type // cty.DynamicPseudoType when no type constraint was given
	Default     cty.Value
	Description string
	Sensitive   bool
	Validations []*VariableValidation
	DeclRange   hcl.Range
}

// VariableValidation is a `validation { condition, error_message }` block.
type VariableValidation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

// Local is one entry of a `locals` block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	DeclRange hcl.Range
}

// Output is an `output "NAME"` block.
type Output struct {
	Name        string
	Expr        hcl.Expression
	Description string
	Sensitive   bool
	DeclRange   hcl.Range
}

// DeviceTypeBlock is a user `device_type "NAME"` block, overriding a built-in of the same
// name. Its arguments must be constant (they are evaluated with variables only).
type DeviceTypeBlock struct {
	Name      string
	Attrs     map[string]*hcl.Attribute
	DeclRange hcl.Range
	// Value is filled in by evaluation.
	Value catalog.DeviceType
}

// Resource is one resource block, before count/for_each expansion.
type Resource struct {
	Addr addrs.Resource
	Spec *KindSpec
	// Index is the block's position in its Config's Resources: the planner numbers
	// its graph's vertices and indexes what it evaluates by it.
	Index int

	// Body holds the block's own arguments and nested blocks.
	Body *BodyContent

	Count     hcl.Expression
	ForEach   hcl.Expression
	DependsOn []hcl.Traversal
	// DependsOnRange is the range of the depends_on list, when set.
	DependsOnRange *hcl.Range
	// ProviderName is the provider from the provider meta-argument, or "".
	ProviderName  string
	ProviderRange *hcl.Range
	Lifecycle     Lifecycle

	DeclRange hcl.Range
	TypeRange hcl.Range
	NameRange hcl.Range
}

// BodyContent is a decoded block body: the arguments and nested blocks that were set.
type BodyContent struct {
	Spec *BlockSpec
	// Args holds the arguments that were set, in the order of Spec.Attrs: a body of
	// 4 arguments out of 20 costs 4 entries (a configuration with a block per node
	// has 100,000 bodies).
	Args   []Arg
	Blocks map[string]*NestedBlock // nil when the body has none
	// MissingItemRange is where a missing argument would go (the block's braces).
	MissingItemRange hcl.Range
}

// Arg is an argument that was set: its position in the body's Spec.Attrs and its
// expression.
type Arg struct {
	Index int
	Expr  hcl.Expression
}

// Expr returns the expression of the named argument, or nil when it is not set.
func (b *BodyContent) Expr(name string) hcl.Expression {
	i := b.Spec.Index(name)
	for _, a := range b.Args {
		if a.Index == i {
			return a.Expr
		}
	}
	return nil
}

// NestedBlock is a nested block such as `protection { ... }`.
type NestedBlock struct {
	Body      *BodyContent
	DeclRange hcl.Range
}

// Lifecycle is the `lifecycle` meta-block.
type Lifecycle struct {
	PreventDestroy      bool
	CreateBeforeDestroy bool
	IgnoreChanges       []string
	DeclRange           *hcl.Range
}

// Expressions returns every expression in the body, nested blocks included, for reference
// analysis.
func (b *BodyContent) Expressions() []hcl.Expression {
	if b.Blocks == nil { // most bodies
		out := make([]hcl.Expression, len(b.Args))
		for i, a := range b.Args {
			out[i] = a.Expr
		}
		return out
	}
	out := make([]hcl.Expression, 0, len(b.Args))
	next := 0
	for i, a := range b.Spec.Attrs {
		if a.IsBlock() {
			if nb := b.Blocks[a.Name]; nb != nil {
				out = append(out, nb.Body.Expressions()...)
			}
			continue
		}
		if next < len(b.Args) && b.Args[next].Index == i {
			out = append(out, b.Args[next].Expr)
			next++
		}
	}
	return out
}

// Range returns the range of the named argument's expression, or of the nested block, or
// the body's missing-item range when it is absent.
func (b *BodyContent) Range(name string) hcl.Range {
	if e := b.Expr(name); e != nil {
		return e.Range()
	}
	if nb := b.Blocks[name]; nb != nil {
		return nb.DeclRange
	}
	return b.MissingItemRange
}

// SourceHash hashes every configuration file (names and contents), so a saved plan can
// say which configuration it was made from.
func (c *Config) SourceHash() string {
	names := make([]string, 0, len(c.Sources))
	for n := range c.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(n), len(c.Sources[n]))
		h.Write(c.Sources[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}
