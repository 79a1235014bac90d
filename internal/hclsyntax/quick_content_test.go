// fabrica: this file is not part of upstream hclsyntax.

package hclsyntax

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

// quickContent is Content by way of QuickArguments: the content built from what it
// hands back, or Content's for a body it declines.
func quickContent(b *Body, schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	args, blocks, ok := b.QuickArguments(schema, nil)
	if !ok {
		return b.Content(schema)
	}
	attrs := hcl.Attributes{}
	for _, arg := range args {
		if schema.Attributes[arg.Index].Name != arg.Attr.Name {
			panic("QuickArguments gave " + arg.Attr.Name + " the position of " + schema.Attributes[arg.Index].Name)
		}
		attrs[arg.Attr.Name] = arg.Attr.AsHCLAttribute()
	}
	var hblocks hcl.Blocks
	for _, block := range blocks {
		hblocks = append(hblocks, block.AsHCLBlock())
	}
	return &hcl.BodyContent{Attributes: attrs, Blocks: hblocks, MissingItemRange: b.MissingItemRange()}, nil
}

// TestQuickArgumentsIsContent requires QuickArguments to give what Content gives,
// content and diagnostics, for bodies with and without what random schemas ask for,
// and to decline a remaining body of PartialContent.
func TestQuickArgumentsIsContent(t *testing.T) {
	sources := []string{
		"",
		"a = 1\nb = \"x\"\n",
		"a = 1\nb = 2\nc = [d.e]\nx {\n  a = 1\n}\nx {\n}\ny \"l\" {\n}\n",
		"x \"l1\" \"l2\" {\n}\ny {\n}\nz {\n}\n",
		"c = 1\n",
	}
	names := []string{"a", "b", "c", "d"}
	types := []string{"x", "y", "z"}
	r := rand.New(rand.NewPCG(1, 2))
	quick := 0
	for i := range 3000 {
		src := sources[i%len(sources)]
		f, diags := ParseConfig([]byte(src), "s.fab.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		body := f.Body.(*Body)
		schema := &hcl.BodySchema{}
		for _, n := range names {
			for range r.IntN(3) + r.IntN(2) { // sometimes twice, as Content allows
				schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: n, Required: r.IntN(3) == 0})
			}
		}
		for _, ty := range types {
			for range r.IntN(3) { // none, one, or the same type twice
				labels := []string{"first", "second"}[:r.IntN(3)]
				schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: ty, LabelNames: labels})
			}
		}
		if i%7 == 0 {
			_, remain, _ := body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "a"}}})
			body = remain.(*Body)
		}
		want, wantDiags := body.Content(schema)
		got, gotDiags := quickContent(body, schema)
		if w, g := treeOf(reflect.ValueOf(want)), treeOf(reflect.ValueOf(got)); !reflect.DeepEqual(w, g) {
			t.Fatalf("source %q, schema %+v: content differs (-Content +QuickArguments):\n%s", src, schema, cmp.Diff(w, g))
		}
		// Content reports in the order of a map's iteration.
		if d := cmp.Diff(diagsOf(wantDiags), diagsOf(gotDiags), cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
			t.Fatalf("source %q, schema %+v: diagnostics differ (-Content +QuickArguments):\n%s", src, schema, d)
		}
		if !wantDiags.HasErrors() && i%7 != 0 {
			quick++
		}
	}
	if quick < 100 {
		t.Errorf("only %d of the cases had content without errors", quick)
	}
}
