// fabrica: this file is not part of upstream hclsyntax. It checks that quick.go
// takes the subset it claims, builds upstream's tree for it, and leaves everything
// else to the full parser.

package hclsyntax

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	upstream "github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// quickSubset is written in the subset only: every input must take the quick path.
var quickSubset = []string{
	"",
	"\n",
	"# only a comment",
	"  # a comment at the end, after spaces",
	"# 4 \u00d7 10.2 kW\x00\na = 1 // \u0301\r\nb = 2\n",
	"// another\n",
	"  \n\t\na = 1",
	"a = 1\n",
	"a = 1 # why\nb = 2 // and why\n",
	"a = 1\r\nb = \"x\"\r\n# c\r\n",
	"a_b-c = 15.36\nd = 1e3\ne = 2.5E-2\nf = 007\ng = 0\n",
	"a = true\nb = false\nc = null\n",
	"a = \"\"\nb = \"s p a c e s\"\nc = \"r000001\"\nd = \"1:1\"\ne = \"nvcr.io/x@sha256:ab\"\n",
	"a = b\nc = d.e\nf = g.h.i-j\nk = truex\nl = null_\n",
	"a = []\nb = [1]\nc = [1, 2,]\nd = [\n  \"x\", # one\n  y.z, // two\n\n]\n",
	"a = [[1, [2]], [], [\"x\"]]\n",
	"a = f()\nb = concat(\n  x.y, z,\n  [1, 2],\n)\nc = f (1)\nd = g(h(i), \"s\")\n",
	"block {\n}\n",
	"block {}\n",
	"block \"a\" \"b\" c {\n  x = 1\n}\n",
	"block \"\" {\n  x = 1\n}",
	"outer \"o\" {\n  inner {\n    deep {\n      x = [a.b]\n    }\n  }\n  y = 2\n  inner {\n  }\n} # done\n",
	"hardware \"n000001\" {\n  facility    = facility.f001\n  device_type = \"dgx-h100\"\n  rack        = \"r000001\"\n  role        = \"compute\"\n}\n\n",
	"a = 1\nb {\n  a = 2\n}\na-b {\n}\n",
	"block { # comment\n  x = 1\n}\n",
	"a = \"\"  # empty\nb = [\"\", \"\"]\n",
	"  block \"x\"   {   \n\tx\t=\t1\t\n  }   \n",
}

// quickDeclined steps outside the subset: the quick path must leave each to the full
// parser (which TestParseMatchesUpstream compares with upstream).
var quickDeclined = []string{
	"a = 1 + 2\n", "a = -1\n", "a = !b\n", "a = b[0]\n", "a = b.0\n", "a = b[*].c\n", "a = b.*\n",
	"a = \"${b}\"\n", "a = \"%{if b}c%{endif}\"\n", "a = \"x\\ny\"\n", "a = \"$\"\n", "a = <<EOT\nx\nEOT\n",
	"a = {}\n", "a = { b = 1 }\n", "a = (1)\n", "a = b ? c : d\n", "a = f(b...)\n", "a = p::f(1)\n",
	"a = [for x in y : x]\n", "a = [for]\n", "a = true.b\n", "a = true(1)\n",
	"block { x = 1 }\n", "block {\n  x = 1\n} y = 2\n", "block \"l\"\n{\n}\n", "block = {\n}\n",
	"a = 1, b = 2\n", "a = 1 b = 2\n", "a = 1\na = 2\n", "a == 1\n", "a => 1\n", "a\n",
	"/* c */ a = 1\n", "a = 1 /* c */\n", "\ufeffa = 1\n", "a = \"\u00e9\"\n", "a = 1 # \u00e9", "#\xed0\n", "# \xff\na = 1\n",
	"a = 1\rb = 2\n", "a = 1.\n", "a = 1.2.3\n", "a = 1e\n", "a = 1x\n", "a = [1 2]\n", "a = [1,\n",
	"a = \"unterminated\n", "block {\n", "}\n", "a = 1\n}\n", "a = b.\n", "a = b. c\n",
	"a = [\n  1\n  , 2]\n" + strings.Repeat("\x00", 1), "\"quoted\" = 1\n", "a = \t\n",
	"block \"a\" \"b\" \"c\" \"d\" \"e\" {\n}\n", "block { # comment\n  x = 1 }\n",
}

func TestQuickParseMatchesUpstream(t *testing.T) {
	inputs := map[string][]byte{"bench": benchSource(), "nodes": nodeSource(300)}
	for i, s := range quickSubset {
		inputs[fmt.Sprintf("subset %d", i)] = []byte(s)
	}
	for name, src := range inputs {
		got, ok := quickParseConfig(src, name)
		if !ok {
			t.Errorf("%s: the quick parser declined it:\n%s", name, src)
			continue
		}
		checkQuickMatchesUpstream(t, name, src, got)
	}
}

func TestQuickParseDeclines(t *testing.T) {
	for _, s := range quickDeclined {
		if _, ok := quickParseConfig([]byte(s), "declined"); ok {
			t.Errorf("the quick parser took %q, which is outside its subset", s)
		}
		checkParseMatchesUpstream(t, "declined", []byte(s))
	}
}

// TestQuickParseTakesConfigurations checks that the repository's example and test
// configurations that keep to the subset take the quick path, and that the
// generated ones do.
func TestQuickParseTakesConfigurations(t *testing.T) {
	inputs := map[string][]byte{}
	addConfigurations(t, inputs)
	taken := 0
	for name, src := range inputs {
		if got, ok := quickParseConfig(src, name); ok {
			checkQuickMatchesUpstream(t, name, src, got)
			taken++
		}
	}
	if taken < len(inputs)/3 {
		t.Errorf("the quick parser took only %d of %d configurations", taken, len(inputs))
	}
}

// TestQuickParseRandomSubset writes random configurations of the subset (random
// nesting, spacing, comments, line endings) and requires the quick parser to take
// each and build upstream's tree.
func TestQuickParseRandomSubset(t *testing.T) {
	for seed := range uint64(400) {
		g := subsetWriter{r: rand.New(rand.NewPCG(seed, 7))}
		g.body(0)
		src := []byte(g.b.String())
		name := fmt.Sprintf("seed %d", seed)
		got, ok := quickParseConfig(src, name)
		if !ok {
			t.Fatalf("%s: the quick parser declined a source of its subset:\n%s", name, src)
		}
		checkQuickMatchesUpstream(t, name, src, got)
	}
}

type subsetWriter struct {
	r    *rand.Rand
	b    strings.Builder
	used map[string]bool
}

func (g *subsetWriter) pick(options ...string) string { return options[g.r.IntN(len(options))] }

func (g *subsetWriter) space() string { return g.pick("", " ", "  ", "\t") }

func (g *subsetWriter) eol() string {
	return g.space() + g.pick("\n", "\n", "\r\n", "# note\n", "// note\r\n", "# \u00e9\n", "\n\n")
}

func (g *subsetWriter) ident() string {
	return g.pick("a", "b_c", "d-e", "f1", "_g", "trueish", "nullable", "for_each", "x")
}

func (g *subsetWriter) body(depth int) {
	names := map[string]bool{}
	for range g.r.IntN(5) {
		if depth < 3 && g.r.IntN(3) == 0 {
			g.b.WriteString(g.space() + g.ident())
			for range g.r.IntN(3) {
				g.b.WriteString(" " + g.pick(`"l"`, `""`, `"a b"`, "bare"))
			}
			g.b.WriteString(g.space() + "{")
			if g.r.IntN(4) == 0 {
				g.b.WriteString("}" + g.eol())
				continue
			}
			g.b.WriteString(g.eol())
			g.body(depth + 1)
			g.b.WriteString(g.space() + "}" + g.eol())
			continue
		}
		name := g.ident()
		if names[name] {
			continue
		}
		names[name] = true
		g.b.WriteString(g.space() + name + g.space() + "=" + g.space())
		g.expr(0)
		g.b.WriteString(g.eol())
	}
	if depth == 0 && g.r.IntN(3) == 0 {
		g.b.WriteString(g.pick("", "# last", "last = 1", "b {}"))
	}
}

func (g *subsetWriter) expr(depth int) {
	switch n := g.r.IntN(8); {
	case n == 0:
		g.b.WriteString(g.pick("0", "15.36", "1e3", "2.5E-2", "007", "4"))
	case n == 1:
		g.b.WriteString(g.pick(`""`, `"dgx-h100"`, `"a b:c/d@e"`))
	case n == 2:
		g.b.WriteString(g.pick("true", "false", "null"))
	case n == 3 && depth < 3, n == 4 && depth < 3:
		open, close := "[", "]"
		if n == 4 {
			open, close = g.pick("concat", "f", "length")+g.space()+"(", ")"
		}
		g.b.WriteString(open)
		items := g.r.IntN(4)
		for i := range items {
			g.b.WriteString(g.pick("", " ", "\n  ", "# c\n", "\r\n"))
			if i == 0 && n == 3 && g.r.IntN(2) == 0 {
				g.b.WriteString("forx") // not the keyword
			} else {
				g.expr(depth + 1)
			}
			if i < items-1 || g.r.IntN(2) == 0 {
				g.b.WriteString(g.space() + ",")
			}
		}
		g.b.WriteString(g.pick("", " ", "\n") + close)
	default:
		g.b.WriteString(g.ident())
		for range g.r.IntN(3) {
			g.b.WriteString("." + g.ident())
		}
	}
}

// TestQuickParseDeclinesCheaply checks that a failed attempt adds little to the full
// parse of a configuration outside the subset: the repository's examples are.
func TestQuickParseDeclinesCheaply(t *testing.T) {
	inputs := map[string][]byte{}
	addConfigurations(t, inputs)
	bytesOf := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 10 {
			f()
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	declined := 0
	for name, src := range inputs {
		if _, ok := quickParseConfig(src, name); ok {
			continue
		}
		declined++
		full := bytesOf(func() { ParseConfig(src, name, hcl.Pos{Line: 2, Column: 1}) })
		both := bytesOf(func() { ParseConfig(src, name, hcl.InitialPos) })
		if both > full*3/2 {
			t.Errorf("%s: an attempt and the full parse allocate %d bytes, the full parse alone %d", name, both, full)
		}
	}
	if declined < 5 {
		t.Fatalf("only %d configurations are outside the subset", declined)
	}
}

func FuzzQuickParseMatchesUpstream(f *testing.F) {
	for _, s := range quickSubset {
		f.Add([]byte(s))
	}
	for _, s := range quickDeclined {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if got, ok := quickParseConfig(src, "fuzz"); ok {
			checkQuickMatchesUpstream(t, "fuzz", src, got)
		}
	})
}

// checkQuickMatchesUpstream requires the quick parser's tree to be upstream's, and
// upstream to find nothing wrong.
func checkQuickMatchesUpstream(t *testing.T, name string, src []byte, got *Body) {
	t.Helper()
	want, diags := upstream.ParseConfig(src, name, hcl.InitialPos)
	if len(diags) > 0 {
		t.Fatalf("%s: the quick parser took a source upstream reports on: %v\nsource:\n%s", name, diags, src)
	}
	if w, g := treeOf(reflect.ValueOf(want.Body)), treeOf(reflect.ValueOf(got)); !reflect.DeepEqual(w, g) {
		t.Fatalf("%s: the quick parser's tree differs from upstream's (-upstream +quick):\n%s\nsource:\n%s", name, cmp.Diff(w, g), src)
	}
}

// nodeSource is n blocks as fabrica-gen writes them one per node, and the lists
// that refer to them.
func nodeSource(n int) []byte {
	var b strings.Builder
	b.WriteString("# Generated.\n\nfacility \"f001\" {\n  it_power_kw = 51400\n  design_pue = 1.25\n}\n\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "hardware \"n%06d\" {\n  facility    = facility.f001\n  device_type = \"dgx-h100\"\n  rack        = \"r%06d\"\n  role        = \"compute\"\n}\n\n", i, (i+3)/4)
	}
	b.WriteString("fabric \"f001_p01\" {\n  partitions = [\"training\"]\n  endpoints = [\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "    hardware.n%06d,\n", i)
	}
	b.WriteString("  ]\n  protection {\n    mode = \"erasure\"\n  }\n}\n")
	return []byte(b.String())
}

// A tuple of two-name references becomes a ReferenceTupleExpr standing for upstream's
// tuple (its tree, value, variables and list); any other tuple stays a TupleConsExpr.
func TestQuickParseReferenceTuples(t *testing.T) {
	compact := []string{
		"a = [x.y]\n", "a = [x.y, z.w]\n", "a = [\n  x.y,\n  z.w,\n]\n", "a = [ x.y ,z.w ]\n",
		"a = [x.y, # note\n  z-1.w_2]\n", "a = [var.v, local.l, count.index]\n",
	}
	general := []string{
		"a = []\n", "a = [x]\n", "a = [x.y, z]\n", "a = [x.y.z]\n", "a = [x.y, 1]\n", "a = [true, x.y]\n",
		"a = [x .y]\n", "a = [x.y, f(x.y)]\n", "a = [[x.y]]\n", "a = [x.y, \"s\"]\n",
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
		"x":     cty.ObjectVal(map[string]cty.Value{"y": cty.StringVal("xy")}),
		"z":     cty.ObjectVal(map[string]cty.Value{"w": cty.StringVal("zw")}),
		"z-1":   cty.ObjectVal(map[string]cty.Value{"w_2": cty.NumberIntVal(2)}),
		"var":   cty.ObjectVal(map[string]cty.Value{"v": cty.True}),
		"local": cty.ObjectVal(map[string]cty.Value{"l": cty.False}),
		"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(0)}),
	}}
	for _, src := range append(compact, general...) {
		got, ok := quickParseConfig([]byte(src), "t.hcl")
		if !ok {
			t.Errorf("the quick parser declined %q", src)
			continue
		}
		checkQuickMatchesUpstream(t, "t.hcl", []byte(src), got)
		expr := got.Attributes["a"].Expr
		r, isCompact := expr.(*ReferenceTupleExpr)
		if want := slices.Contains(compact, src); isCompact != want {
			t.Errorf("%q: parsed as %T", src, expr)
			continue
		}
		if !isCompact {
			continue
		}
		tuple := r.Tuple()
		want, wantDiags := tuple.Value(ctx)
		v, diags := r.Value(ctx)
		if !v.RawEquals(want) || len(diags) != len(wantDiags) {
			t.Errorf("%q: value %#v %v, the tuple's %#v %v", src, v, diags, want, wantDiags)
		}
		if w, g := tuple.Variables(), r.Variables(); !reflect.DeepEqual(w, g) {
			t.Errorf("%q: variables %#v, the tuple's %#v", src, g, w)
		}
		list, diags := hcl.ExprList(r)
		if len(diags) > 0 || len(list) != len(r.Elems) {
			t.Errorf("%q: hcl.ExprList gives %d expressions, %v", src, len(list), diags)
		}
		for i := range r.Elems {
			if d := cmp.Diff(tuple.Exprs[i].Range(), r.Elems[i].Range("t.hcl")); d != "" {
				t.Errorf("%q: element %d range (-tuple +compact):\n%s", src, i, d)
			}
		}
	}
}

// A Recycler hands a tree's blocks, bodies and arguments to the next file once its
// caller recycles them, never before: trees kept (Keep) or not yet recycled stay
// whole, expressions stay valid after their tree is recycled, and a declined attempt
// gives back only its own nodes.
func TestQuickParseRecycling(t *testing.T) {
	var r Recycler
	parse := func(name string, src []byte) *Body {
		t.Helper()
		f, diags := ParseConfigRecycling(src, name, hcl.InitialPos, &r)
		if len(diags) > 0 {
			t.Fatalf("%s: %v", name, diags)
		}
		return f.Body.(*Body)
	}
	snapshot := func(b *Body) any { return treeOf(reflect.ValueOf(b)) }
	first := nodeSource(300)
	a := parse("a", first)
	aTree := snapshot(a)
	aExpr := a.Blocks[1].Body.Attributes["rack"].Expr
	// Not recycled: parsing more must not touch it, declined attempts included.
	b := parse("b", nodeSource(200))
	parse("declined", []byte("a = 1 + 2\n"))
	if !reflect.DeepEqual(aTree, snapshot(a)) {
		t.Fatal("parsing another file changed a tree that was not recycled")
	}
	r.Keep() // a and b are the caller's for good
	bTree := snapshot(b)
	c := parse("c", nodeSource(250))
	r.Recycle() // c's nodes are free
	free := len(r.free.attrs) + len(r.free.blocks) + len(r.free.bodies) + len(r.free.maps)
	d := parse("d", nodeSource(280))
	checkQuickMatchesUpstream(t, "d", nodeSource(280), d)
	if !reflect.DeepEqual(aTree, snapshot(a)) || !reflect.DeepEqual(bTree, snapshot(b)) {
		t.Fatal("a recycled tree's nodes went to trees that were kept")
	}
	if v, _ := aExpr.Value(nil); v.AsString() != "r000001" {
		t.Errorf("an expression of a kept tree reads %#v", v)
	}
	if left := len(r.free.attrs) + len(r.free.blocks) + len(r.free.bodies) + len(r.free.maps); free == 0 || left >= free {
		t.Errorf("the recycled slabs and maps were not taken up again: %d free before, %d after", free, left)
	}
	_ = c
}
