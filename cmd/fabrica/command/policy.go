package command

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/spf13/cobra"
	"path/filepath"
	"time"

	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/policies"
	"github.com/fabrica-iac/fabrica/policies/report"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
)

// policyNow is the policies' clock: FABRICA_NOW (RFC 3339 or YYYY-MM-DD) when set, for
// reproducible CI runs and tests, else the real time.
func policyNow(env []string) (func() time.Time, error) {
	v := lookupEnv(env, "FABRICA_NOW")
	if v == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		if t, err = time.Parse("2006-01-02", v); err != nil {
			return nil, fmt.Errorf("FABRICA_NOW=%q is not a date (YYYY-MM-DD) or an RFC 3339 time", v)
		}
	}
	return func() time.Time { return t }, nil
}

// policyOptions builds the policy engine's options from the fabrica { policy { ... } }
// block: bundles (default builtin), params and waivers.
func policyOptions(p *project) (policies.Options, diag.Diagnostics) {
	now, err := policyNow(environ(p.streams))
	if err != nil {
		return policies.Options{}, diag.Diagnostics{}.Append(err)
	}
	base, _ := filepath.Abs(p.dir)
	if ws := lookupEnv(environ(p.streams), "GITHUB_WORKSPACE"); ws != "" {
		base = ws
	}
	opts := policies.Options{Now: now, BaseDir: base}
	if p.cfg.Settings == nil || p.cfg.Settings.Policy == nil {
		return opts, nil
	}
	ps := p.cfg.Settings.Policy
	var diags diag.Diagnostics
	if ps.Bundles != nil {
		var bundles []string
		diags = diags.Append(decodeSetting(p.ev, ps.Bundles, &bundles, "bundles must be a list of strings, such as [\"builtin\", \"./policies\"]"))
		for i, b := range bundles {
			if b != policies.BuiltinBundle && !filepath.IsAbs(b) {
				bundles[i] = filepath.Join(p.dir, b)
			}
		}
		opts.Bundles = bundles
		opts.BundlesRange = diag.JSONRange(ps.Bundles.Range())
	}
	if ps.Params != nil {
		diags = diags.Append(decodeSetting(p.ev, ps.Params, &opts.Params, "params must be an object, such as { max_pue = 1.4 }"))
		opts.ParamsRange = diag.JSONRange(ps.Params.Range())
	}
	for _, w := range ps.Waivers {
		wv, d := decodeWaiver(p.ev, w)
		diags = diags.Append(d)
		opts.Waivers = append(opts.Waivers, wv)
	}
	return opts, diags
}

func decodeWaiver(ev *planner.Evaluated, w *schema.Waiver) (policies.Waiver, diag.Diagnostics) {
	wv := policies.Waiver{Rule: w.Rule, Range: diag.JSONRange(w.DeclRange)}
	var diags diag.Diagnostics
	if w.Address != nil {
		diags = diags.Append(decodeSetting(ev, w.Address, &wv.Address, "address must be a string, such as \"facility.legacy\""))
	}
	diags = diags.Append(decodeSetting(ev, w.Reason, &wv.Reason, "reason must be a string saying why the finding is accepted"))
	var expires string
	diags = diags.Append(decodeSetting(ev, w.Expires, &expires, "expires must be a date, such as \"2027-03-31\""))
	if !diags.HasErrors() {
		t, err := policies.ParseExpiry(expires)
		if err != nil {
			diags = diags.Append(diag.Errorf(w.Expires.Range(), "Invalid waiver expiry",
				"%s. Write the last day the waiver holds as \"YYYY-MM-DD\".", err))
		}
		wv.Expires = t
	}
	return wv, diags
}

func decodeSetting(ev *planner.Evaluated, expr hcl.Expression, into any, hint string) diag.Diagnostics {
	raw, diags := ev.EvalSetting(expr)
	if diags.HasErrors() {
		return diags
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return diag.Diagnostics{diag.Errorf(expr.Range(), "Invalid policy setting", "%s.", hint)}
	}
	return nil
}

// policyLoader is the policy engine being loaded beside other work. policies.Load
// needs only the settings, not the plan, and takes 40 ms alone but 0.1–0.14 s in a
// plan of 100,000 instances, beside the collections of a large heap: started before
// the plan is made, it is ready when the plan is.
type policyLoader struct {
	done   chan struct{}
	engine *policies.Engine
	diags  diag.Diagnostics
}

// loadPolicies starts loading the policies of p's settings (which must be evaluated).
func loadPolicies(ctx context.Context, p *project) *policyLoader {
	l := &policyLoader{done: make(chan struct{})}
	opts, diags := policyOptions(p)
	if diags.HasErrors() {
		l.diags = diags
		close(l.done)
		return l
	}
	go func() {
		defer close(l.done)
		engine, d := policies.Load(ctx, opts)
		l.engine, l.diags = engine, diags.Append(d)
	}()
	return l
}

// checkPlan runs the policies over a plan and records the findings in it. started,
// when not nil, is called once the policies are loaded, before they run: plan starts
// writing its plan file there.
func checkPlan(ctx context.Context, policy *policyLoader, pl *plans.Plan, started func()) (*policies.Report, diag.Diagnostics) {
	<-policy.done
	engine, diags := policy.engine, policy.diags
	if diags.HasErrors() {
		return nil, diags
	}
	if started != nil {
		started()
	}
	rep, err := engine.CheckPlan(ctx, plans.Redact(pl))
	if err != nil {
		return nil, diags.Append(diag.Diagnostic{Severity: diag.Error, Summary: "Policy check failed", Detail: err.Error()})
	}
	if b, err := json.Marshal(report.NewDocument(rep)); err == nil {
		pl.Policy = b
	}
	return rep, diags
}

// policyFlags are plan's and apply's policy flags.
type policyFlags struct {
	mode string // "enforce" or "warn-only"
}

func (f *policyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.mode, "policy", "enforce", "enforce (a deny exits 3) or warn-only (plan only: show denies, exit as if none)")
}

func (f *policyFlags) check() error {
	if f.mode != "enforce" && f.mode != "warn-only" {
		return fmt.Errorf("--policy must be enforce or warn-only, not %q", f.mode)
	}
	return nil
}

// renderFindings prints policy findings after a plan in the plan's format.
func renderFindings(streams *views.Streams, rep *policies.Report, format string) {
	if rep == nil {
		return
	}
	switch format {
	case "json": // the findings are in the plan document
	case "markdown":
		fmt.Fprintln(streams.Out)
		_ = report.Markdown(streams.Out, rep)
	default:
		fmt.Fprintln(streams.Out)
		_ = report.Text(streams.Out, rep, streams.Color)
	}
}
