// fabrica: this file is not part of upstream hclsyntax. It decodes a body against a
// schema the way Body.Content does, for the common case, without the maps and the
// remaining body that Content builds on its way.

package hclsyntax

import "github.com/hashicorp/hcl/v2"

// QuickContent returns what Content returns for a body fresh from the parser (one
// with no arguments or blocks hidden by PartialContent) that holds every required
// argument, no argument or block the schema does not name, and
// blocks with the labels the schema gives them; any other body goes to Content, for
// its diagnostics. A configuration with a block per node decodes 100,000 bodies: the
// four maps, the remaining body and one allocation per argument that Content makes
// for each were most of the time taken.
func (b *Body) QuickContent(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	var buf [8]Argument
	args, blocks, ok := b.QuickArguments(schema, buf[:0])
	if !ok {
		return b.Content(schema)
	}
	attrs := make(hcl.Attributes, len(args))
	slab := make([]hcl.Attribute, len(args))
	for i, arg := range args {
		a := &slab[i]
		*a = hcl.Attribute{Name: arg.Attr.Name, Expr: arg.Attr.Expr, Range: arg.Attr.SrcRange, NameRange: arg.Attr.NameRange}
		attrs[arg.Attr.Name] = a
	}
	var hblocks hcl.Blocks
	for _, block := range blocks {
		hblocks = append(hblocks, block.AsHCLBlock())
	}
	return &hcl.BodyContent{Attributes: attrs, Blocks: hblocks, MissingItemRange: b.MissingItemRange()}, nil
}

// Argument is an argument of a body and the position of its name in a schema.
type Argument struct {
	Index int
	Attr  *Attribute
}

// QuickArguments checks a body as QuickContent does, for a caller that reads the
// syntax tree itself: it appends to args each of the body's arguments with the
// position of its name in schema.Attributes (in no particular order), and returns
// them with the body's blocks, which are all ones the schema names. It reports false
// for a body that QuickContent would give to Content. Nothing is allocated when args
// has room.
func (b *Body) QuickArguments(schema *hcl.BodySchema, args []Argument) ([]Argument, Blocks, bool) {
	if b.hiddenAttrs != nil || b.hiddenBlocks != nil {
		return args, nil, false
	}
	// Content hides an argument once taken, so a name the schema repeats is missing the
	// second time: an error when required there.
	for i, attrS := range schema.Attributes {
		if attrS.Required {
			if _, ok := b.Attributes[attrS.Name]; !ok || names(schema.Attributes[:i], attrS.Name) {
				return args, nil, false
			}
		}
	}
	// The body's few arguments are looked up in the schema (a resource's has twenty
	// names), not the schema's names in the body.
	for name, attr := range b.Attributes {
		i := position(schema.Attributes, name)
		if i < 0 {
			return args, nil, false // an argument the schema does not name
		}
		args = append(args, Argument{Index: i, Attr: attr})
	}
	for _, block := range b.Blocks {
		wanted := false
		for _, blockS := range schema.Blocks { // the last of a type counts, as in Content
			if blockS.Type == block.Type {
				wanted = len(block.Labels) == len(blockS.LabelNames)
			}
		}
		if !wanted {
			return args, nil, false
		}
	}
	return args, b.Blocks, true
}

// position returns where schema names an argument name, or -1.
func position(schema []hcl.AttributeSchema, name string) int {
	for i, s := range schema {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// names reports whether schema names an argument name.
func names(schema []hcl.AttributeSchema, name string) bool {
	for _, s := range schema {
		if s.Name == name {
			return true
		}
	}
	return false
}
