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
	if b.hiddenAttrs != nil || b.hiddenBlocks != nil {
		return b.Content(schema)
	}
	// Content hides an argument once taken, so a name the schema repeats is missing the
	// second time: an error when required there.
	for i, attrS := range schema.Attributes {
		if attrS.Required {
			if _, ok := b.Attributes[attrS.Name]; !ok || names(schema.Attributes[:i], attrS.Name) {
				return b.Content(schema)
			}
		}
	}
	// The body's few arguments are looked up in the schema (a resource's has twenty
	// names), not the schema's names in the body.
	attrs := make(hcl.Attributes, len(b.Attributes))
	slab := make([]hcl.Attribute, len(b.Attributes))
	for name, attr := range b.Attributes {
		if !names(schema.Attributes, name) {
			return b.Content(schema) // an argument the schema does not name
		}
		a := &slab[len(attrs)]
		*a = hcl.Attribute{Name: attr.Name, Expr: attr.Expr, Range: attr.SrcRange, NameRange: attr.NameRange}
		attrs[name] = a
	}
	var blocks hcl.Blocks
	for _, block := range b.Blocks {
		wanted := false
		for _, blockS := range schema.Blocks { // the last of a type counts, as in Content
			if blockS.Type == block.Type {
				wanted = len(block.Labels) == len(blockS.LabelNames)
			}
		}
		if !wanted {
			return b.Content(schema)
		}
		blocks = append(blocks, block.AsHCLBlock())
	}
	return &hcl.BodyContent{Attributes: attrs, Blocks: blocks, MissingItemRange: b.MissingItemRange()}, nil
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
