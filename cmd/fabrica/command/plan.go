package command

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/spf13/cobra"
)

// planFlags are the flags plan, apply and destroy share (DESIGN.md §4).
type planFlags struct {
	varFlags
	policy           policyFlags
	out              string
	json             bool
	format           string
	detailedExitcode bool
	targets          []string
	excludes         []string
	replace          []string
	refresh          bool
	refreshOnly      bool
	destroy          bool
	parallelism      int
	lockTimeout      time.Duration
}

func (f *planFlags) register(cmd *cobra.Command, withOut bool) {
	f.varFlags.register(cmd)
	fl := cmd.Flags()
	if withOut {
		fl.StringVar(&f.out, "out", "", "write the plan to `FILE` for a later apply")
		fl.BoolVar(&f.json, "json", false, "print the plan as one JSON document (same as --format json)")
		fl.BoolVar(&f.detailedExitcode, "detailed-exitcode", false, "exit 2 when the plan has changes, 0 when it has none")
	}
	fl.StringVar(&f.format, "format", "text", "output format: text, json or markdown")
	fl.StringArrayVar(&f.targets, "target", nil, "limit to `ADDR` and what it depends on (repeatable)")
	fl.StringArrayVar(&f.excludes, "exclude", nil, "leave out `ADDR` and what depends on it (repeatable)")
	fl.StringArrayVar(&f.replace, "replace", nil, "force the replacement of `ADDR` (repeatable)")
	fl.BoolVar(&f.refresh, "refresh", true, "read the actual state from providers first")
	fl.BoolVar(&f.refreshOnly, "refresh-only", false, "only record changes made outside fabrica")
	fl.BoolVar(&f.destroy, "destroy", false, "plan to destroy everything in state")
	fl.IntVar(&f.parallelism, "parallelism", 10, "how many changes apply runs at once")
	fl.DurationVar(&f.lockTimeout, "lock-timeout", 0, "wait this long for the state lock (e.g. 30s)")
	f.policy.register(cmd)
}

func (f *planFlags) options() planner.PlanOptions {
	mode := plans.ModeNormal
	switch {
	case f.destroy:
		mode = plans.ModeDestroy
	case f.refreshOnly:
		mode = plans.ModeRefreshOnly
	}
	return planner.PlanOptions{Mode: mode, Refresh: f.refresh || f.refreshOnly, Targets: f.targets, Excludes: f.excludes, Replace: f.replace}
}

func (f *planFlags) check() error {
	if f.json {
		f.format = "json"
	}
	switch f.format {
	case "text", "json", "markdown":
	default:
		return fmt.Errorf("--format must be text, json or markdown, not %q", f.format)
	}
	if f.destroy && f.refreshOnly {
		return fmt.Errorf("--destroy and --refresh-only cannot be used together")
	}
	if f.parallelism < 1 {
		return fmt.Errorf("--parallelism must be at least 1")
	}
	return f.policy.check()
}

func newPlanCmd(streams *views.Streams, g *globals) *cobra.Command {
	f := &planFlags{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change, and its physical impact",
		Long: `Refreshes the actual state from the providers, compares it with the configuration and
shows each change, a count line and, per facility, the physical impact before → after.
Takes no lock and changes nothing; --out FILE saves the plan for apply FILE.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return exitCode(runPlan(cmd.Context(), streams, g, f))
		},
	}
	f.register(cmd, true)
	return cmd
}

func runPlan(ctx context.Context, streams *views.Streams, g *globals, f *planFlags) int {
	p, diags := openProject(streams, g)
	defer p.close()
	if diags.HasErrors() {
		return reportDiags(streams, p, diags, f.format == "json")
	}
	opts := f.options()
	prior, refreshed, d := p.evaluateWithState(ctx, f.inputs(streams), opts.Refresh)
	if diags = diags.Append(d); diags.HasErrors() {
		return reportDiags(streams, p, diags, f.format == "json")
	}
	policy := loadPolicies(ctx, p)
	opts.Refreshed = refreshed
	pl, d := planner.Plan(ctx, p.ev, prior, p.provs, opts)
	diags = diags.Append(d)
	p.phase("plan")
	if diags.HasErrors() {
		return reportDiags(streams, p, diags, f.format == "json")
	}
	if f.out != "" && f.format == "json" {
		pl.KeepEncoding() // encoded for the file, reused for the JSON
	}
	// The plan file's bulk, the resource changes, is written while the policies run.
	var file *plans.PendingFile
	stopSignals := func() {}
	defer func() { stopSignals() }()
	startFile := func() {
		if f.out != "" {
			file = plans.StartFile(f.out, pl, p.settings.keyring)
			stopSignals = abandonOnSignal(file)
		}
	}
	// The text of the changes is written while the policies run (it does not show
	// their findings), on a core their evaluation leaves idle.
	var text chan *bytes.Buffer
	if f.format == "text" {
		redacted := plans.Redact(pl) // here, so that checkPlan finds it redacted
		text = make(chan *bytes.Buffer, 1)
		go func() {
			var b bytes.Buffer
			views.PlanText(&b, redacted, streams.Color)
			text <- &b
		}()
	}
	rep, d := checkPlan(ctx, policy, pl, startFile)
	diags = diags.Append(d)
	pl.Diagnostics = planDiagnostics(diags)
	p.phase("policy check")
	if diags.HasErrors() {
		if file != nil {
			file.Abort()
		}
		return reportDiags(streams, p, diags, f.format == "json")
	}
	if f.out != "" {
		if file == nil {
			startFile()
		}
		if err := file.Finish(); err != nil {
			return reportDiags(streams, p, diags.Append(err), f.format == "json")
		}
		p.phase("write plan file")
	}
	renderPlan(streams, p, pl, diags, f.format, text)
	renderFindings(streams, rep, f.format)
	p.phase("render")
	if f.out != "" && f.format == "text" {
		fmt.Fprintf(streams.Out, "\nSaved the plan to %s. Apply exactly this plan with: fabrica apply %s\n", f.out, f.out)
	}
	if rep.Denied() && f.policy.mode == "enforce" {
		return ExitPolicy
	}
	if f.detailedExitcode && pl.HasChanges() {
		return ExitChanges
	}
	return ExitOK
}

// abandonOnSignal removes a pending plan file when SIGINT or SIGTERM arrives while it
// is written (so no hidden temporary file is left next to it), then lets the signal
// end the process as it would have. stop ends the watch.
//
// A signal the process was started ignoring (as a background job's SIGINT) stays
// ignored. A signal that arrives while Finish completes the file may be lost to the
// process's normal exit, which is then harmless: the file is whole.
func abandonOnSignal(file *plans.PendingFile) (stop func()) {
	var watched []os.Signal
	for _, s := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		if !signal.Ignored(s) {
			watched = append(watched, s)
		}
	}
	if len(watched) == 0 {
		return func() {}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, watched...)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sig:
			signal.Stop(sig) // the default action again: a second signal ends the process at once
			file.Abort()
			if self, err := os.FindProcess(os.Getpid()); err == nil {
				_ = self.Signal(s)
			}
		case <-done:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(sig)
			close(done)
		})
	}
}

// renderPlan shows the plan in the format asked for. text, when not nil, delivers the
// text format's rendering of the changes, made meanwhile.
func renderPlan(streams *views.Streams, p *project, pl *plans.Plan, diags diag.Diagnostics, format string, text <-chan *bytes.Buffer) {
	pl = plans.Redact(pl)
	switch format {
	case "json":
		_ = views.PlanJSON(streams.Out, pl)
	case "markdown":
		views.Diagnostics(streams.Err, diags, p.sources(), false)
		views.PlanMarkdown(streams.Out, pl)
	default:
		views.Diagnostics(streams.Err, diags, p.sources(), streams.Color)
		if text != nil {
			_, _ = (<-text).WriteTo(streams.Out)
		} else {
			views.PlanText(streams.Out, pl, streams.Color)
		}
	}
}

// reportDiags prints diagnostics (as a JSON document when asked) and returns exit 1.
func reportDiags(streams *views.Streams, p *project, diags diag.Diagnostics, asJSON bool) int {
	if asJSON {
		views.ValidateJSON(streams.Out, nil, diags)
	} else {
		views.Diagnostics(streams.Err, diags, p.sources(), streams.Color)
	}
	if diags.HasErrors() {
		return ExitError
	}
	return ExitOK
}

func planDiagnostics(diags diag.Diagnostics) []plans.Diagnostic {
	out := []plans.Diagnostic{}
	for _, d := range views.DiagnosticsJSON(diags) {
		pd := plans.Diagnostic{Severity: d.Severity, Summary: d.Summary, Detail: d.Detail, Address: d.Address}
		pd.Range = d.Range
		out = append(out, pd)
	}
	return out
}

func stateError(err error) diag.Diagnostic {
	var locked *states.LockedError
	summary := "Cannot read state"
	if asLocked(err, &locked) {
		summary = "State is locked"
	}
	return diag.Diagnostic{Severity: diag.Error, Summary: summary, Detail: err.Error()}
}
