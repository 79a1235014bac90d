package planner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/schema/diag"
)

// ApplyOptions control an apply walk.
type ApplyOptions struct {
	// Parallelism is the most changes in flight at once (default 10).
	Parallelism int
	// Progress receives every progress event, from the walk's goroutine.
	Progress func(ProgressEvent)
	// StillRunningEvery is how often a long change is reported as still running
	// (default 10 s).
	StillRunningEvery time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// ProgressType says what a ProgressEvent reports.
type ProgressType string

// Progress event types.
const (
	ProgressStarted ProgressType = "started"
	ProgressStage   ProgressType = "stage"
	ProgressLog     ProgressType = "log"
	ProgressStill   ProgressType = "still-running"
	ProgressDone    ProgressType = "done"
	ProgressFailed  ProgressType = "failed"
	ProgressSkipped ProgressType = "skipped"
)

// ProgressEvent reports one step of one change.
type ProgressEvent struct {
	Type    ProgressType
	Address string
	Action  providers.Action
	Stage   string
	Message string
	Elapsed time.Duration
}

// ApplySummary counts what an apply did.
type ApplySummary struct {
	Added, Changed, Destroyed, Failed, Skipped int
	Duration                                   time.Duration
}

// ErrStalePlan is returned (wrapped) when a saved plan no longer matches the state.
var ErrStalePlan = errors.New("stale plan")

// CheckStale refuses a plan made against another state than current.
func CheckStale(p *plans.Plan, current *states.State) error {
	if p.Lineage != "" && current.Lineage != p.Lineage {
		return fmt.Errorf("%w: the plan was made for state lineage %s, but the state now has lineage %s; run fabrica plan again",
			ErrStalePlan, p.Lineage, current.Lineage)
	}
	if current.Serial != p.PriorSerial {
		return fmt.Errorf("%w: the plan was made against state serial %d, but the state is now at serial %d (it changed since the plan was made); run fabrica plan again",
			ErrStalePlan, p.PriorSerial, current.Serial)
	}
	return nil
}

// Apply carries out a plan: it walks the changes in dependency order with at most
// Parallelism in flight, persists each finished instance to the journal as it completes,
// keeps going on independent branches when one fails, and finally persists the whole
// state. base is the state loaded under the lock; the caller holds the lock.
func Apply(ctx context.Context, p *plans.Plan, backend states.Backend, base *states.State, provs *Providers, opts ApplyOptions) (*states.State, ApplySummary, diag.Diagnostics) {
	start := time.Now()
	if opts.Parallelism <= 0 {
		opts.Parallelism = 10
	}
	if opts.StillRunningEvery <= 0 {
		opts.StillRunningEvery = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Progress == nil {
		opts.Progress = func(ProgressEvent) {}
	}
	if err := CheckStale(p, base); err != nil {
		return base, ApplySummary{}, diag.Diagnostics{{Severity: diag.Error, Summary: "Saved plan is stale", Detail: err.Error()}}
	}
	journal, err := backend.Journal(ctx, base)
	if err != nil {
		return base, ApplySummary{}, diag.Diagnostics{{Severity: diag.Error, Summary: "Cannot record state", Detail: err.Error()}}
	}
	w := newWalker(ctx, p, base, journal, provs, opts)
	w.recordOnly()
	w.run()
	diags := w.diags
	if err := journal.Close(); err != nil {
		diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Summary: "Cannot record state", Detail: err.Error()})
	}
	w.state.Outputs = p.Outputs
	if err := backend.Persist(context.WithoutCancel(ctx), w.state); err != nil {
		diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Summary: "Cannot save state",
			Detail: fmt.Sprintf("%s. Every finished change is in the state journal and will be recovered by the next command.", err)})
	}
	w.summary.Duration = time.Since(start)
	return w.state, w.summary, diags
}

// recordOnly writes the changes that need no provider: new configuration hashes and
// refreshed attributes.
func (w *walker) recordOnly() {
	for _, rc := range w.plan.ResourceChanges {
		if !rc.RecordOnly {
			continue
		}
		if rc.After == nil {
			_ = w.state.Remove(rc.Address)
			w.journalRemove(rc.Address, nil)
			continue
		}
		inst := w.state.Get(rc.Address)
		if inst == nil {
			continue
		}
		inst = inst.DeepCopy()
		inst.Attrs, inst.AttrsHash = rc.After, providers.AttrsHash(rc.After)
		inst.Sensitive = rc.SensitiveAttributes
		if rc.Action == plans.NoOp {
			inst.ConfigHash = rc.ConfigHash
		}
		w.state.Put(inst)
		w.journalPut(inst, nil)
	}
}

func (w *walker) journalErr(err error) {
	if err != nil && !w.journalFailed {
		w.journalFailed = true
		w.diags = w.diags.Append(diag.Diagnostic{Severity: diag.Error, Summary: "Cannot record state", Detail: err.Error()})
	}
}
