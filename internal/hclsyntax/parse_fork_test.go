// fabrica: this file is not part of upstream hclsyntax. It checks that the fork parses
// exactly as the upstream package does: the same syntax tree, node for node, and the
// same diagnostics.

package hclsyntax

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	upstream "github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// trickyExpressions cover the parser's paths: every operator level, their mixes and
// associativity, unary operators, conditionals, traversals and splats after terms,
// function calls, collections, for expressions, templates, and broken input.
var trickyExpressions = []string{
	`1`, `"s"`, `a`, `a.b[0].c`, `a[*].b`, `a.*.b`, `f(a, b...)`, `[1, 2,]`, `{a = 1, "b" = 2}`,
	`a || b && c`, `a && b || c`, `a == b != c`, `a < b <= c > d >= e`, `a + b - c * d / e % f`,
	`-a + !b`, `a ? b : c ? d : e`, `(a ? b : c) + 1`, `a + (b * c)`, `1 + 2 + 3 + 4`, `a * b + c * d`,
	`a == 1 ? "x" : "y"`, `!a || -b < c`, `[for x in xs : x * 2 if x > 1]`, `{for k, v in m : k => v...}`,
	`"a${b + 1}c%{if d}e%{endif}"`, "<<EOT\n  ${a}\nEOT\n", `a.b.c + d[e].f`, `f(g(h(1)))`, `concat(a.b, c.d)`,
	`a +`, `a ? b`, `a ? : c`, `+ 1`, `a b`, `(a`, `[1, 2`, `f(1,`, `a == == b`, `a.`, `a[`, `"${"`, `1 + (2 * )`,
	`a || b ? c && d : e`, `x.y ? 1 : 2 + 3`, `a.b[*]`, `a[1][2]`, `-1 * -2`, `!!a`, `a % b == 0`,
}

// trickyConfigs are bodies around such expressions, with blocks, comments and newlines
// where the grammar does and does not allow them.
var trickyConfigs = []string{
	"a = 1 + 2\nb = c ? d : e\n",
	"block \"l\" {\n  x = a.b + 1 # c\n  y = [\n    1 +\n    2,\n  ]\n}\n",
	"a = 1 +\n2\n",
	"a = (1 +\n2)\n",
	"a = b\n  + c\n",
	"a = 1, b = 2\n",
	"a = 1 b = 2\n",
	"x = f(\n  a.b,\n  c, // d\n)\n",
	"one { two = three ? four : five }\n",
	"a = [for v in x : v if v != null]\n",
	"a = 1\n\n\nb = { c = d ? e : f, g = h.i }\n",
	"a = b ==\n",
	"a = \"${b ? c : d}\"\n",
}

func TestParseMatchesUpstream(t *testing.T) {
	inputs := map[string][]byte{}
	for i, s := range trickyConfigs {
		inputs[fmt.Sprintf("config %d", i)] = []byte(s)
	}
	for i, s := range trickyExpressions {
		inputs[fmt.Sprintf("expression %d", i)] = []byte("a = " + s + "\n")
	}
	inputs["bench"] = benchSource()
	addConfigurations(t, inputs)
	for name, src := range inputs {
		checkParseMatchesUpstream(t, name, src)
	}
	for _, s := range trickyExpressions {
		checkExpressionMatchesUpstream(t, s)
	}
}

func FuzzParseMatchesUpstream(f *testing.F) {
	for _, s := range trickyConfigs {
		f.Add([]byte(s))
	}
	for _, s := range trickyExpressions {
		f.Add([]byte("a = " + s + "\n"))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkParseMatchesUpstream(t, "fuzz", src)
		checkExpressionMatchesUpstream(t, string(src))
	})
}

func checkParseMatchesUpstream(t *testing.T, name string, src []byte) {
	t.Helper()
	got, gotDiags := ParseConfig(src, name, hcl.InitialPos)
	want, wantDiags := upstream.ParseConfig(src, name, hcl.InitialPos)
	if w, g := treeOf(reflect.ValueOf(want.Body)), treeOf(reflect.ValueOf(got.Body)); !reflect.DeepEqual(w, g) {
		t.Fatalf("%s: the syntax tree differs from upstream's (-upstream +fork):\n%s\nsource:\n%s", name, cmp.Diff(w, g), src)
	}
	if d := cmp.Diff(diagsOf(wantDiags), diagsOf(gotDiags)); d != "" {
		t.Fatalf("%s: the diagnostics differ from upstream's (-upstream +fork):\n%s\nsource:\n%s", name, d, src)
	}
}

func checkExpressionMatchesUpstream(t *testing.T, src string) {
	t.Helper()
	got, gotDiags := ParseExpression([]byte(src), "expr", hcl.InitialPos)
	want, wantDiags := upstream.ParseExpression([]byte(src), "expr", hcl.InitialPos)
	// reflect.DeepEqual, not cmp.Diff, to compare: cmp takes exponential time on
	// deeply nested trees ([[[[…).
	if w, g := treeOf(reflect.ValueOf(want)), treeOf(reflect.ValueOf(got)); !reflect.DeepEqual(w, g) {
		t.Fatalf("expression %q: the syntax tree differs from upstream's (-upstream +fork):\n%s", src, cmp.Diff(w, g))
	}
	if d := cmp.Diff(diagsOf(wantDiags), diagsOf(gotDiags)); d != "" {
		t.Fatalf("expression %q: the diagnostics differ from upstream's (-upstream +fork):\n%s", src, d)
	}
}

// diagsOf is what a diagnostic says and where.
func diagsOf(ds hcl.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%d %q %q %v %v", d.Severity, d.Summary, d.Detail, d.Subject, d.Context))
	}
	return out
}

// operations names each binary and unary operation of both packages, which are
// distinct values of the same shape.
var operations = map[any]string{
	OpLogicalOr: "||", OpLogicalAnd: "&&", OpLogicalNot: "!", OpEqual: "==", OpNotEqual: "!=",
	OpGreaterThan: ">", OpGreaterThanOrEqual: ">=", OpLessThan: "<", OpLessThanOrEqual: "<=",
	OpAdd: "+", OpSubtract: "-", OpMultiply: "*", OpDivide: "/", OpModulo: "%", OpNegate: "neg",
	upstream.OpLogicalOr: "||", upstream.OpLogicalAnd: "&&", upstream.OpLogicalNot: "!", upstream.OpEqual: "==",
	upstream.OpNotEqual: "!=", upstream.OpGreaterThan: ">", upstream.OpGreaterThanOrEqual: ">=",
	upstream.OpLessThan: "<", upstream.OpLessThanOrEqual: "<=", upstream.OpAdd: "+", upstream.OpSubtract: "-",
	upstream.OpMultiply: "*", upstream.OpDivide: "/", upstream.OpModulo: "%", upstream.OpNegate: "neg",
}

var (
	ctyValue = reflect.TypeFor[cty.Value]()
	ctyType  = reflect.TypeFor[cty.Type]()
)

// treeOf turns a syntax tree of either package into plain values (maps, lists,
// strings, numbers) that compare equal when the trees are the same: structs become
// maps of their fields with their type's name (not its package), operations their
// symbol, go-cty values their Go syntax.
func treeOf(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Invalid:
		return nil
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if v.CanInterface() {
			if name, ok := operations[v.Interface()]; ok {
				return "op " + name
			}
			// The quick parser's compact tuple stands for the tuple it makes.
			if r, ok := v.Interface().(*ReferenceTupleExpr); ok {
				return treeOf(reflect.ValueOf(r.Tuple()))
			}
		}
		return treeOf(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return treeOf(v.Elem())
	case reflect.Struct:
		switch v.Type() {
		case ctyValue:
			if v.CanInterface() {
				cv := v.Interface().(cty.Value)
				if cv.Type() == cty.Number && cv.IsKnown() && !cv.IsNull() {
					// In binary: the decimal digits of 8E8888888 take a minute to make.
					return "cty number " + cv.AsBigFloat().Text('p', 0)
				}
				return "cty " + cv.GoString()
			}
		case ctyType:
			if v.CanInterface() {
				return "cty type " + v.Interface().(cty.Type).GoString()
			}
		}
		m := map[string]any{"": v.Type().Name()}
		for i := range v.NumField() {
			m[v.Type().Field(i).Name] = treeOf(v.Field(i))
		}
		return m
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Sprintf("bytes %q", v.Bytes())
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = treeOf(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		m := map[string]any{}
		for _, k := range keys {
			m[fmt.Sprint(k)] = treeOf(v.MapIndex(k))
		}
		return m
	case reflect.String:
		return "string " + v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return v.Kind().String()
	}
	return strings.ToUpper(v.Kind().String())
}
