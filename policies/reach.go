package policies

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// A plan of 100,000 servers holds 100,000 hardware changes, and converting them into
// OPA terms took a quarter of a no-change plan's CPU time (1.3 s of 5), while no
// bundled rule reads them: the bundle sets them aside through lib.not_hardware, which
// the notKind intrinsic evaluates from the kinds alone, and reads the per-facility
// aggregates instead. A check therefore leaves hardware changes out of the input when
// no rule that the query can reach may read one (see readsHardwareChanges); the
// findings are the same either way (TestDroppedHardwareSameFindings). A user policy
// that reads lib.hardware, lib.by_kind or input.resource_changes gets them all.

// hardwareKind is the kind of change an input may leave out.
const hardwareKind = "hardware"

// notHardwarePath is the rule the intrinsic evaluates.
var notHardwarePath = libPath.Append(ast.StringTerm("not_hardware"))

// readsHardwareChanges reports whether evaluating query with the compiled modules of c
// may read a hardware change of input.resource_changes: whether a rule it can reach
// refers to input as a whole, to a member of input named at run time, or to
// input.resource_changes, other than lib.not_hardware evaluated by the intrinsic, which
// drops every hardware change. Rules are reached through every reference to data that
// could name them (Compiler.GetRulesDynamicWithOpts, which errs on the side of more),
// so the answer errs on the side of reading.
func readsHardwareChanges(c *ast.Compiler, query ast.Ref) bool {
	opts := ast.RulesOptions{IncludeHiddenModules: true}
	seen := map[*ast.Rule]bool{}
	queue := c.GetRulesDynamicWithOpts(query, opts)
	for len(queue) > 0 {
		r := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[r] {
			continue
		}
		seen[r] = true
		intrinsic := isNotKindIntrinsic(r)
		reads := false
		ast.WalkRefs(r, func(ref ast.Ref) bool {
			switch {
			case ref[0].Equal(ast.InputRootDocument):
				reads = reads || !intrinsic && refersToChanges(ref)
			case ref[0].Equal(ast.DefaultRootDocument):
				queue = append(queue, c.GetRulesDynamicWithOpts(ref, opts)...)
			}
			return false
		})
		if reads {
			return true
		}
	}
	return false
}

// refersToChanges reports whether a reference rooted at input may reach
// input.resource_changes.
func refersToChanges(ref ast.Ref) bool {
	if len(ref) < 2 {
		return true
	}
	s, ok := ref[1].Value.(ast.String)
	return !ok || string(s) == "resource_changes"
}

// isNotKindIntrinsic reports whether r is lib.not_hardware as useIntrinsics rewrites
// it: its value comes from internal_fabrica_not_kind(input.resource_changes,
// "hardware"), and its else is the bundled comprehension, which keeps no hardware
// change either.
func isNotKindIntrinsic(r *ast.Rule) bool {
	if r.Module == nil || !r.Ref().Equal(notHardwarePath) {
		return false
	}
	found := false
	ast.WalkExprs(r, func(e *ast.Expr) bool {
		if !e.IsCall() || e.Operator().String() != notKindBuiltin.Name {
			return false
		}
		args := e.Operands()
		found = found || len(args) >= 2 && args[1].Equal(ast.StringTerm(hardwareKind))
		return false
	})
	return found
}
