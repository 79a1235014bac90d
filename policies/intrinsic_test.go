package policies

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// builtinModules parses the bundled policies, with the intrinsics or as written.
func builtinModules(t *testing.T, intrinsics bool) (*ast.Compiler, []func(*rego.Rego)) {
	t.Helper()
	b, err := readBundle(BuiltinBundle, "", false)
	if err != nil {
		t.Fatal(err)
	}
	modules, errs := parseBundles([]*bundleFiles{b})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	c := ast.NewCompiler()
	var fns []func(*rego.Rego)
	if intrinsics {
		if !useIntrinsics(modules) {
			t.Fatalf("the bundled lib no longer defines %s: change notKindRule and intrinsicRules with it", notKindRule)
		}
		c.WithBuiltins(map[string]*ast.Builtin{notKindBuiltin.Name: {Name: notKindBuiltin.Name, Decl: notKindBuiltin.Decl}})
		fns = append(fns, rego.Function2(notKindBuiltin, notKind))
	}
	if c.Compile(modules); c.Failed() {
		t.Fatal(c.Errors)
	}
	return c, fns
}

// TestIntrinsicMatchesRego evaluates lib.not_hardware and lib.changes with the
// intrinsic and as the Rego defines them, on plans with every shape of change the
// rule can meet: objects with and without a kind, kinds that are not strings, sets
// (only a test's `with input as` makes those), scalars, and resource_changes that is
// not an array or is missing.
func TestIntrinsicMatchesRego(t *testing.T) {
	fast, fns := builtinModules(t, true)
	slow, _ := builtinModules(t, false)
	ctx := context.Background()
	queries := map[string][2]rego.PreparedEvalQuery{}
	for _, q := range []string{"data.fabrica.lib.not_hardware", "data.fabrica.lib.changes", "data.fabrica.lib.by_address"} {
		var pq [2]rego.PreparedEvalQuery
		for i, c := range []*ast.Compiler{fast, slow} {
			opts := []func(*rego.Rego){rego.Compiler(c), rego.Query(q), rego.StrictBuiltinErrors(true)}
			if i == 0 {
				opts = append(opts, fns...)
			}
			var err error
			if pq[i], err = rego.New(opts...).PrepareForEval(ctx); err != nil {
				t.Fatal(err)
			}
		}
		queries[q] = pq
	}
	kinds := []*ast.Term{ast.StringTerm("hardware"), ast.StringTerm("facility"), ast.StringTerm("storage"),
		ast.StringTerm("Hardware"), ast.NumberTerm("5"), ast.NullTerm(), ast.BooleanTerm(false),
		ast.ArrayTerm(ast.StringTerm("hardware")), ast.ObjectTerm()}
	change := func(r *rand.Rand, i int) *ast.Term {
		switch r.IntN(12) {
		case 0:
			return ast.StringTerm("kind")
		case 1:
			return ast.NumberTerm("3")
		case 2:
			return ast.ArrayTerm(ast.StringTerm("kind"))
		case 3:
			return ast.SetTerm(ast.StringTerm("kind"), ast.StringTerm("hardware"))
		case 4:
			return ast.SetTerm(ast.StringTerm("hardware"))
		case 5:
			return ast.ObjectTerm([2]*ast.Term{ast.StringTerm("address"), ast.StringTerm(fmt.Sprint("x.", i))})
		}
		return ast.ObjectTerm(
			[2]*ast.Term{ast.StringTerm("address"), ast.StringTerm(fmt.Sprint("r.", i))},
			[2]*ast.Term{ast.StringTerm("kind"), kinds[r.IntN(len(kinds))]},
			[2]*ast.Term{ast.StringTerm("action"), ast.StringTerm([]string{"create", "no-op", "delete"}[r.IntN(3)])},
			[2]*ast.Term{ast.StringTerm("after"), ast.ObjectTerm([2]*ast.Term{ast.StringTerm("n"), ast.IntNumberTerm(i)})},
		)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		var input ast.Value
		changes := make([]*ast.Term, r.IntN(8))
		for i := range changes {
			changes[i] = change(r, i)
		}
		switch n % 10 {
		case 0: // not an array: an object of changes, a string, null, missing
			obj := ast.NewObject()
			for i, c := range changes {
				obj.Insert(ast.StringTerm(fmt.Sprint(i)), c)
			}
			input = ast.NewObject([2]*ast.Term{ast.StringTerm("resource_changes"), ast.NewTerm(obj)})
		case 1:
			input = ast.NewObject([2]*ast.Term{ast.StringTerm("resource_changes"), ast.StringTerm("hardware")})
		case 2:
			input = ast.NewObject([2]*ast.Term{ast.StringTerm("resource_changes"), ast.NullTerm()})
		case 3:
			input = ast.NewObject()
		default:
			input = ast.NewObject([2]*ast.Term{ast.StringTerm("resource_changes"), ast.ArrayTerm(changes...)})
		}
		for q, pq := range queries {
			var got [2]string
			for i := range pq {
				rs, err := pq[i].Eval(ctx, rego.EvalParsedInput(input))
				if err != nil {
					t.Fatalf("%s on %v: %v", q, input, err)
				}
				got[i] = fmt.Sprint(rs)
			}
			if got[0] != got[1] {
				t.Fatalf("%s on %v:\nintrinsic %s\nRego      %s", q, input, got[0], got[1])
			}
		}
	}
}

// A check's evaluation hands notKind the kinds of the changes it converted, and
// notKind reads them for that array only. The kinds given here are false on purpose,
// so that the result shows which were read.
func TestNotKindReadsTheChangeKinds(t *testing.T) {
	c, fns := builtinModules(t, true)
	pq, err := rego.New(append([]func(*rego.Rego){rego.Compiler(c), rego.Query("data.fabrica.lib.not_hardware")}, fns...)...).PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	change := func(addr, kind string) *ast.Term {
		return ast.ObjectTerm([2]*ast.Term{ast.StringTerm("address"), ast.StringTerm(addr)}, [2]*ast.Term{keyKind, ast.StringTerm(kind)})
	}
	arr := ast.NewArray(change("hardware.a", "hardware"), change("fabric.b", "fabric"), change("hardware.c", "hardware"))
	input := ast.NewObject([2]*ast.Term{keyResourceChanges, ast.NewTerm(arr)})
	notHardware := func(ctx context.Context) []string {
		rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, rc := range rs[0].Expressions[0].Value.([]any) {
			out = append(out, rc.(map[string]any)["address"].(string))
		}
		return out
	}
	ctx := context.Background()
	if got := notHardware(ctx); !slices.Equal(got, []string{"fabric.b"}) {
		t.Fatalf("without kinds: %v", got)
	}
	lying := &changeKinds{changes: arr, kinds: []string{"storage", "hardware", "hardware"}}
	if got := notHardware(withChangeKinds(ctx, lying)); !slices.Equal(got, []string{"hardware.a"}) {
		t.Fatalf("with the array's kinds: %v, want them read", got)
	}
	other := &changeKinds{changes: ast.NewArray(), kinds: lying.kinds}
	if got := notHardware(withChangeKinds(ctx, other)); !slices.Equal(got, []string{"fabric.b"}) {
		t.Fatalf("with another array's kinds: %v, want them ignored", got)
	}
}

// TestIntrinsicOnlyForTheBundledRule leaves a rule of another definition, or of another
// package, as it is.
func TestIntrinsicOnlyForTheBundledRule(t *testing.T) {
	for _, src := range []string{
		"package fabrica.lib\n\nnot_hardware := [rc | rc := input.resource_changes[_]; rc.kind != \"storage\"]\n",
		"package fabrica.lib\n\nnot_hardware := [rc | rc := input.changes[_]; rc.kind != \"hardware\"]\n",
		"package fabrica.mine\n\n" + notKindRule + "\n",
	} {
		m, err := ast.ParseModuleWithOpts("x.rego", src, parserOptions)
		if err != nil {
			t.Fatal(err)
		}
		if useIntrinsics(map[string]*ast.Module{"x.rego": m}) {
			t.Errorf("replaced the rule of\n%s", src)
		}
	}
	lib := "package fabrica.lib\n\n" + notKindRule + "\n"
	// A module that says the builtin's name keeps the Rego everywhere: the name means
	// there what it means without fabrica (a rule, an alias, or an undefined function).
	for _, other := range []string{
		"package fabrica.lib\n\ninternal_fabrica_not_kind := 1\n",
		"package fabrica.mine\n\nimport data.fabrica.lib as internal_fabrica_not_kind\n\nx := 1\n",
		"package fabrica.mine\n\nx := internal_fabrica_not_kind(input.resource_changes, \"fabric\")\n",
	} {
		m, err := ast.ParseModuleWithOpts("x.rego", lib, parserOptions)
		if err != nil {
			t.Fatal(err)
		}
		o, err := ast.ParseModuleWithOpts("y.rego", other, parserOptions)
		if err != nil {
			t.Fatal(err)
		}
		if useIntrinsics(map[string]*ast.Module{"x.rego": m, "y.rego": o}) {
			t.Errorf("replaced the rule beside\n%s", other)
		}
	}
	m, err := ast.ParseModuleWithOpts("x.rego", lib, parserOptions)
	if err != nil {
		t.Fatal(err)
	}
	if !useIntrinsics(map[string]*ast.Module{"x.rego": m}) {
		t.Error("did not replace the bundled definition")
	}
}

// TestIntrinsicLeavesUserNamesAlone loads the bundled policies beside a bundle whose
// names could have shadowed the intrinsic's, or that calls it: the first loads as it
// would without the intrinsic, the second is refused as calling an undefined function.
func TestIntrinsicLeavesUserNamesAlone(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ext.rego"), []byte("package fabrica.lib\n\nfabrica := {\"version\": 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, diags := Load(context.Background(), Options{Bundles: []string{BuiltinBundle, dir}}); diags.HasErrors() {
		t.Errorf("a lib helper named fabrica: %v", diags.Err())
	}
	if err := os.WriteFile(filepath.Join(dir, "ext.rego"), []byte("package fabrica.mine\n\ndeny contains x if {\n\tsome x in internal_fabrica_not_kind(input.resource_changes, \"fabric\")\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := Load(context.Background(), Options{Bundles: []string{BuiltinBundle, dir}})
	if !diags.HasErrors() || !strings.Contains(diags.Err().Error(), "undefined function") {
		t.Errorf("a policy calling the intrinsic loaded: %v", diags.Err())
	}
}
