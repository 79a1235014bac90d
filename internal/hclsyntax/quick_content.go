// fabrica: this file is not part of upstream hclsyntax. It decodes a body against a
// schema the way Body.Content does, for the common case, without the maps and the
// remaining body that Content builds on its way.

package hclsyntax

import "github.com/hashicorp/hcl/v2"

// Argument is an argument of a body and the position of its name in a schema.
type Argument struct {
	Index int
	Attr  *Attribute
}

// QuickArguments decodes a body against a schema as Body.Content does, for the common
// case and for a caller that reads the syntax tree itself. For a body fresh from the
// parser (no arguments or blocks hidden by PartialContent) that holds every required
// argument, no argument or block the schema does not name, and blocks with the labels
// the schema gives them, it appends to args each of the body's arguments with the
// position of its name in schema.Attributes (in no particular order) and returns them
// with the body's blocks. Any other body it reports false for: Content gives its
// diagnostics. Nothing is allocated when args has room. A configuration with a block
// per node decodes 100,000 bodies: the four maps, the remaining body and one
// allocation per argument that Content makes for each were most of the time taken.
func (b *Body) QuickArguments(schema *hcl.BodySchema, args []Argument) ([]Argument, Blocks, bool) {
	if b.hiddenAttrs != nil || b.hiddenBlocks != nil {
		return args, nil, false
	}
	// Content hides an argument once taken, so a name the schema repeats is missing the
	// second time: an error when required there.
	for i, attrS := range schema.Attributes {
		if attrS.Required {
			if _, ok := b.Attributes[attrS.Name]; !ok || position(schema.Attributes[:i], attrS.Name) >= 0 {
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
