package command

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/spf13/cobra"
)

type applyFlags struct {
	planFlags
	autoApprove bool
}

func newApplyCmd(streams *views.Streams, g *globals, destroy bool) *cobra.Command {
	f := &applyFlags{}
	cmd := &cobra.Command{
		Use:   "apply [PLANFILE]",
		Short: "Make the infrastructure match the configuration",
		Long: `Plans (or reads the saved PLANFILE), asks for confirmation unless --auto-approve, then
applies the changes in dependency order, --parallelism at a time, recording each finished
instance in state as it completes. Ctrl-C stops starting new changes and lets the ones in
flight finish; a second Ctrl-C kills the providers.

With PLANFILE, the plan carries the changes and the provider settings: of the
configuration only the fabrica block (backend, encryption) is read.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if destroy {
				f.destroy = true
			}
			planFile := ""
			if len(args) == 1 {
				planFile = args[0]
			}
			return exitCode(runApply(cmd.Context(), streams, g, f, planFile))
		},
	}
	if destroy {
		cmd.Use, cmd.Short = "destroy", "Destroy everything fabrica manages in this configuration"
		cmd.Long = "The same as apply --destroy: plans the deletion of every instance in state, asks for confirmation and applies it."
		cmd.Args = cobra.NoArgs
	}
	f.planFlags.register(cmd, false)
	cmd.Flags().BoolVar(&f.autoApprove, "auto-approve", false, "apply without asking for confirmation")
	return cmd
}

func runApply(ctx context.Context, streams *views.Streams, g *globals, f *applyFlags, planFile string) int {
	ctx, interrupted := interruptible(ctx, streams)
	opener := openProject
	if planFile != "" {
		opener = openProjectSettings // a saved plan carries everything else
	}
	p, diags := opener(streams, g)
	defer p.close()
	if diags.HasErrors() {
		return reportDiags(streams, p, diags, false)
	}
	var saved *plans.Plan
	if planFile != "" {
		// A saved plan carries everything apply needs: the configuration is not evaluated.
		var err error
		if saved, err = plans.ReadFile(planFile, p.settings.keyring); err != nil {
			return reportDiags(streams, p, diags.Append(err), false)
		}
		p.phase("read plan file")
		if diags = diags.Append(p.startProviders(saved.ProviderConfigs)); diags.HasErrors() {
			return reportDiags(streams, p, diags, false)
		}
	}
	// Locked before evaluating, so that the state can be read and refreshed meanwhile
	// (as plan does), and is the state the plan is made against.
	unlock, err := lockState(ctx, p.backend, "apply", f.lockTimeout)
	if err != nil {
		return reportDiags(streams, p, diags.Append(stateError(err)), false)
	}
	defer unlock()
	var base *states.State
	var refreshed *planner.Refresh
	if saved != nil {
		if base, err = p.backend.Load(ctx); err != nil {
			return reportDiags(streams, p, diags.Append(stateError(err)), false)
		}
		p.phase("lock and load state")
	} else {
		var d diag.Diagnostics
		base, refreshed, d = p.evaluateWithState(ctx, f.inputs(streams), f.options().Refresh)
		if diags = diags.Append(d); diags.HasErrors() {
			return reportDiags(streams, p, diags, false)
		}
	}
	interrupted.source.Store(p.source)
	pl := saved
	if pl != nil {
		if err := planner.CheckStale(pl, base); err != nil {
			fmt.Fprintf(streams.Err, "Error: Saved plan is stale\n\n%s.\n", err)
			return ExitError
		}
		if savedPlanDenied(pl) {
			fmt.Fprintln(streams.Err, "Error: Policy denied\n\nThe saved plan has policy denials (it was made with --policy=warn-only); nothing was applied. Fix the findings or add waivers, then plan again.")
			return ExitPolicy
		}
	} else {
		var d = diags
		policy := loadPolicies(ctx, p)
		opts := f.options()
		opts.Refreshed = refreshed
		pl, d = planner.Plan(ctx, p.ev, base, p.provs, opts)
		diags = diags.Append(d)
		if diags.HasErrors() {
			return reportDiags(streams, p, diags, false)
		}
		rep, d := checkPlan(ctx, policy, pl, nil)
		diags = diags.Append(d)
		if diags.HasErrors() {
			return reportDiags(streams, p, diags, false)
		}
		views.Diagnostics(streams.Err, diags, p.sources(), streams.Color)
		views.PlanText(streams.Out, plans.Redact(pl), streams.Color)
		renderFindings(streams, rep, "text")
		if rep.Denied() {
			fmt.Fprintln(streams.Err, "\nError: Policy denied\n\nA policy denies this plan, so nothing was applied. Fix the findings above, or add a waiver with a reason and an expiry.")
			return ExitPolicy
		}
	}
	if !pl.NeedsApply() {
		return ExitOK
	}
	// Only state entries to bring up to date: nothing to confirm, as with no changes.
	if planFile == "" && !f.autoApprove && pl.HasChanges() && !confirm(streams) {
		fmt.Fprintln(streams.Out, "\nApply cancelled.")
		return ExitError
	}
	fmt.Fprintln(streams.Out)
	progress := views.NewProgress(streams.Out)
	_, sum, d := planner.Apply(ctx, pl, p.backend, base, p.provs, planner.ApplyOptions{
		Parallelism: f.parallelism, Progress: progress.Event,
	})
	progress.Flush()
	p.phase("apply")
	views.Diagnostics(streams.Err, d, p.sources(), streams.Color)
	views.ApplySummary(streams.Out, sum, pl.Mode == plans.ModeDestroy)
	if d.HasErrors() {
		return ExitError
	}
	return ExitOK
}

// confirm asks for "yes" on the streams' input.
func confirm(streams *views.Streams) bool {
	fmt.Fprint(streams.Out, "\nDo you want to perform these actions? Only 'yes' will be accepted.\n  Enter a value: ")
	line, _ := bufio.NewReader(streams.In).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}

// interruptState lets the signal handler reach the providers once they exist. The
// handler runs on its own goroutine, hence the atomic pointer.
type interruptState struct{ source atomic.Pointer[pluginSource] }

// interruptible cancels ctx on the first SIGINT/SIGTERM (apply then finishes what is in
// flight) and kills the providers and exits on the second.
func interruptible(ctx context.Context, streams *views.Streams) (context.Context, *interruptState) {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	return onInterrupts(ctx, streams, sig, func() { os.Exit(ExitError) })
}

// onInterrupts is interruptible for the signals sig delivers, ending the process with
// exit.
func onInterrupts(ctx context.Context, streams *views.Streams, sig <-chan os.Signal, exit func()) (context.Context, *interruptState) {
	ctx, cancel := context.WithCancel(ctx)
	st := &interruptState{}
	go func() {
		<-sig
		fmt.Fprintln(streams.Err, "\nInterrupt received: no new changes will start; waiting for the ones in flight. Press Ctrl-C again to abort at once.")
		cancel()
		<-sig
		fmt.Fprintln(streams.Err, "Aborting: providers killed. Changes in flight may be incomplete; run fabrica plan to see where things stand.")
		if src := st.source.Load(); src != nil {
			src.Kill()
		}
		exit()
	}()
	return ctx, st
}

func asLocked(err error, target **states.LockedError) bool { return errors.As(err, target) }

// savedPlanDenied reports whether a saved plan's policy findings include a deny.
func savedPlanDenied(pl *plans.Plan) bool {
	var doc struct {
		Denied bool `json:"denied"`
	}
	return len(pl.Policy) > 0 && json.Unmarshal(pl.Policy, &doc) == nil && doc.Denied
}
