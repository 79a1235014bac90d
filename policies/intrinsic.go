package policies

import (
	"context"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"
)

// Every bundled policy reads the plan's changes through data.fabrica.lib, which sets
// the hardware aside in one pass over input.resource_changes (lib.not_hardware). In a
// plan of 100,000 servers that pass is 100,000 steps of OPA's evaluator, about 0.2 s
// on one core while the other waits: half of the policy evaluation. A check therefore
// evaluates that rule in Go, when its definition is exactly the bundled one: the rule
// is replaced, in the compiled modules only, by a call of notKind for an array of
// changes, and by its own definition otherwise. The sources stay as they are, so
// `fabrica policy test` (and plain OPA) run the Rego; TestIntrinsicMatchesRego compares
// the two on adversarial inputs.

// notKindBuiltin is the declaration of notKind. Its name is one segment that no policy
// has a reason to write: a module that mentions it anyway (a rule, an import alias, a
// call) keeps the Rego, so that the name means there what it means without fabrica.
var notKindBuiltin = &rego.Function{
	Name: "internal_fabrica_not_kind",
	Decl: types.NewFunction(types.Args(types.A, types.A), types.NewArray(nil, types.A)),
}

// notHardware is the bundled definition of lib.not_hardware; notKindRule is the rule an
// intrinsic replaces, and intrinsicRules what replaces it (the definition stays as the
// else, for anything but an array).
const (
	notHardware    = `[rc | rc := input.resource_changes[_]; rc.kind != "hardware"]`
	notKindRule    = "not_hardware := " + notHardware
	intrinsicRules = "package fabrica.lib\n\n" +
		`not_hardware := internal_fabrica_not_kind(input.resource_changes, "hardware") if is_array(input.resource_changes)` +
		"\nelse := " + notHardware + "\n"
)

// notKind returns, in order, the elements of list whose kind (what rc.kind is in Rego)
// is defined and differs from kind: [rc | rc := list[_]; rc.kind != kind] for an
// array. Any other list is undefined (the rule's else evaluates it).
func notKind(bctx rego.BuiltinContext, list, kind *ast.Term) (*ast.Term, error) {
	arr, ok := list.Value.(*ast.Array)
	if !ok {
		return nil, nil
	}
	out := make([]*ast.Term, 0, 64)
	if ck := changeKindsOf(bctx.Context); ck != nil && ck.changes == arr {
		if want, ok := kind.Value.(ast.String); ok {
			for i, k := range ck.kinds {
				if k != string(want) {
					out = append(out, arr.Elem(i))
				}
			}
			return ast.ArrayTerm(out...), nil
		}
	}
	for i := range arr.Len() {
		rc := arr.Elem(i)
		var k *ast.Term
		switch v := rc.Value.(type) {
		case ast.Object:
			k = v.Get(keyKind)
		case ast.Set: // s.kind is "kind" when the set holds it
			if v.Contains(keyKind) {
				k = keyKind
			}
		}
		if k != nil && ast.Compare(k.Value, kind.Value) != 0 {
			out = append(out, rc)
		}
	}
	return ast.ArrayTerm(out...), nil
}

// changeKinds is the kind of each resource change of a plan converted in this process
// (planInputOf): the same strings as each change's "kind" member, read without
// visiting 100,000 objects scattered through the heap (a cache miss or more each,
// 60 ms of a check's 120 on one core). notKind reads them for that array only.
type changeKinds struct {
	changes *ast.Array
	kinds   []string
}

type changeKindsKey struct{}

// withChangeKinds returns ctx carrying ck (nil: nothing) for the builtins of a check.
func withChangeKinds(ctx context.Context, ck *changeKinds) context.Context {
	if ck == nil {
		return ctx
	}
	return context.WithValue(ctx, changeKindsKey{}, ck)
}

func changeKindsOf(ctx context.Context) *changeKinds {
	if ctx == nil {
		return nil
	}
	ck, _ := ctx.Value(changeKindsKey{}).(*changeKinds)
	return ck
}

// useIntrinsics replaces, in modules, each rule an intrinsic evaluates (see above).
// It reports whether it replaced any, so that the engine declares the builtin.
func useIntrinsics(modules map[string]*ast.Module) bool {
	wm, err := ast.ParseModuleWithOpts("intrinsic.rego", "package fabrica.lib\n\n"+notKindRule, parserOptions)
	if err != nil {
		panic("policies: the intrinsic's rule does not parse: " + err.Error())
	}
	want := wm.Rules[0]
	for _, m := range modules {
		if mentions(m, notKindBuiltin.Name) {
			return false
		}
	}
	replaced := false
	for _, m := range modules {
		if !m.Package.Path.Equal(libPath) {
			continue
		}
		for i, r := range m.Rules {
			if !r.Head.Ref().Equal(want.Head.Ref()) || r.Else != nil || len(r.Head.Args) > 0 || r.Head.Value == nil ||
				r.Head.Value.String() != want.Head.Value.String() || !r.Body.Equal(want.Body) { // String: the parser numbers wildcards per file
				continue
			}
			im, err := ast.ParseModuleWithOpts(m.Package.Location.File, intrinsicRules, parserOptions)
			if err != nil {
				panic("policies: the intrinsic rules do not parse: " + err.Error())
			}
			nr := im.Rules[0]
			nr.Module = m
			ast.WalkTerms(nr, func(t *ast.Term) bool { // errors point at the original rule
				t.Location = r.Location
				return false
			})
			nr.Location = r.Location
			nr.Head.Location = r.Location
			m.Rules[i] = nr
			replaced = true
		}
	}
	return replaced
}

// mentions reports whether a module uses name anywhere: as a rule, an import's alias,
// a variable or a function it calls.
func mentions(m *ast.Module, name string) bool {
	found := false
	ast.WalkVars(m, func(v ast.Var) bool {
		found = found || string(v) == name
		return found
	})
	return found
}

// libPath is the package of the bundled helpers.
var libPath = ast.MustParseRef("data.fabrica.lib")
