package command

import (
	"context"
	"fmt"
	"os"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/policies"
	"github.com/fabrica-iac/fabrica/policies/report"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/spf13/cobra"
)

func newPolicyCmd(streams *views.Streams, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Check plans against the policies, and test policies"}
	cmd.AddCommand(newPolicyCheckCmd(streams, g), newPolicyTestCmd(streams, g))
	return cmd
}

type policyCheckOptions struct {
	varFlags
	format string
}

func newPolicyCheckCmd(streams *views.Streams, g *globals) *cobra.Command {
	o := &policyCheckOptions{}
	cmd := &cobra.Command{Use: "check [PLANFILE|DIR]", Short: "Check a saved plan, or a fresh plan of a directory", Args: cobra.MaximumNArgs(1),
		Long: `Runs the policy bundles of the configuration (fabrica { policy { ... } }) over a plan
and prints the findings: text, json, junit (CI dashboards), sarif (code review, SARIF
2.1.0), github (workflow annotations) or markdown (a pull-request comment). Exits 3 when
a policy denies.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.format {
			case "text", "json", "junit", "sarif", "github", "markdown":
			default:
				return fmt.Errorf("--format must be text, json, junit, sarif, github or markdown, not %q", o.format)
			}
			target := ""
			if len(args) == 1 {
				target = args[0]
			}
			return exitCode(runPolicyCheck(cmd.Context(), streams, g, o, target))
		}}
	cmd.Flags().StringVar(&o.format, "format", "text", "text, json, junit, sarif, github or markdown")
	o.register(cmd)
	return cmd
}

func runPolicyCheck(ctx context.Context, streams *views.Streams, g *globals, o *policyCheckOptions, target string) int {
	gl := *g
	var saved *plans.Plan
	if target != "" {
		if st, err := os.Stat(target); err == nil && st.IsDir() {
			gl.dir = target
		} else {
			pl, err := plans.ReadFile(target, keyringOf(&gl, streams))
			if err != nil {
				fmt.Fprintf(streams.Err, "Error: %s\n", err)
				return ExitError
			}
			saved = pl
		}
	}
	p, diags := openProject(streams, &gl)
	defer p.close()
	var prior *states.State
	var refreshed *planner.Refresh
	switch {
	case diags.HasErrors():
	case saved == nil: // a plan is made, as plan makes it
		var d diag.Diagnostics
		prior, refreshed, d = p.evaluateWithState(ctx, o.inputs(streams), true)
		diags = diags.Append(d)
	default:
		diags = diags.Append(p.evaluate(o.inputs(streams)))
	}
	if diags.HasErrors() {
		return reportDiags(streams, p, diags, false)
	}
	policy := loadPolicies(ctx, p) // beside the plan, if one is made
	pl := saved
	if pl == nil {
		var d diag.Diagnostics
		pl, d = planner.Plan(ctx, p.ev, prior, p.provs, planner.PlanOptions{Refresh: true, Refreshed: refreshed})
		diags = diags.Append(d)
		if diags.HasErrors() {
			return reportDiags(streams, p, diags, false)
		}
	}
	rep, d := checkPlan(ctx, policy, pl, nil)
	diags = diags.Append(d)
	views.Diagnostics(streams.Err, diags, p.sources(), streams.Color)
	if diags.HasErrors() {
		return ExitError
	}
	if err := writeReport(streams, rep, o.format); err != nil {
		fmt.Fprintf(streams.Err, "Error: %s\n", err)
		return ExitError
	}
	if rep.Denied() {
		return ExitPolicy
	}
	return ExitOK
}

func writeReport(streams *views.Streams, rep *policies.Report, format string) error {
	switch format {
	case "json":
		return report.JSON(streams.Out, rep)
	case "junit":
		return report.JUnit(streams.Out, rep)
	case "sarif":
		return report.SARIF(streams.Out, rep, Version)
	case "github":
		return report.GitHub(streams.Out, rep)
	case "markdown":
		return report.Markdown(streams.Out, rep)
	}
	return report.Text(streams.Out, rep, streams.Color)
}

func newPolicyTestCmd(streams *views.Streams, g *globals) *cobra.Command {
	var noBuiltin bool
	cmd := &cobra.Command{Use: "test [DIR...]", Short: "Run the _test.rego files of policy bundles",
		Long: "Runs OPA's tests in the given policy directories (default: the configuration's ./policies) and, unless --no-builtin, the bundled policies' own tests.",
		RunE: func(cmd *cobra.Command, args []string) error {
			dirs := args
			if len(dirs) == 0 {
				if st, err := os.Stat(g.dir + "/policies"); err == nil && st.IsDir() {
					dirs = []string{g.dir + "/policies"}
				}
			}
			rep, diags := policies.RunTests(cmd.Context(), dirs, !noBuiltin)
			views.Diagnostics(streams.Err, diags, nil, streams.Color)
			if diags.HasErrors() {
				return exitCode(ExitError)
			}
			views.PolicyTests(streams.Out, rep)
			if rep.Failed() {
				return exitCode(ExitError)
			}
			return nil
		}}
	cmd.Flags().BoolVar(&noBuiltin, "no-builtin", false, "do not run the bundled policies' tests")
	return cmd
}
