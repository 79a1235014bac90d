package planner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/statefile"
	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/schema/diag"
)

// op is one provider call of an apply: a create, update or delete (a replacement is a
// delete and a create).
type op struct {
	rc       *plans.ResourceChange
	action   providers.Action
	resource string
	blockers int   // unfinished operations this one waits for
	waiters  []*op // operations waiting for this one alone (replacement halves)
	started  time.Time
	lastNote time.Time
	done     bool
}

// walker runs the operations of one apply.
type walker struct {
	ctx   context.Context
	plan  *plans.Plan
	state *states.State
	rec   *recorder
	provs *Providers
	opts  ApplyOptions

	ops []*op
	// upPending counts unfinished creates/updates per resource; upWaiters are the
	// operations waiting for that count to reach zero.
	upPending map[string]int
	upWaiters map[string][]*op
	// downPending counts unfinished deletes of instances that depend on a resource;
	// downWaiters are deletes of that resource's instances, waiting for them.
	downPending map[string]int
	downWaiters map[string][]*op

	ready    []*op
	inFlight map[string]*op
	sessions map[string]*session
	events   chan providerEvent

	// unrecorded counts records handed to rec whose result has not come back.
	unrecorded int

	summary       ApplySummary
	diags         diag.Diagnostics
	journalFailed bool
	stopping      bool
}

func newWalker(ctx context.Context, p *plans.Plan, base *states.State, j states.Journal, provs *Providers, opts ApplyOptions) *walker {
	w := &walker{ctx: ctx, plan: p, state: base, rec: newRecorder(j), provs: provs, opts: opts,
		upPending: map[string]int{}, upWaiters: map[string][]*op{},
		downPending: map[string]int{}, downWaiters: map[string][]*op{},
		inFlight: map[string]*op{}, sessions: map[string]*session{}, events: make(chan providerEvent, 256)}
	w.buildOps()
	return w
}

// buildOps turns changes into operations and wires their dependencies.
func (w *walker) buildOps() {
	for _, rc := range w.plan.ResourceChanges {
		res := resourceOf(rc.Address)
		switch rc.Action {
		case plans.Create, plans.Update:
			w.addUp(rc, res, providers.Action(rc.Action))
		case plans.Delete:
			w.addDown(rc, res)
		case plans.Replace:
			create, del := w.addUp(rc, res, providers.ActionCreate), w.addDown(rc, res)
			if rc.CreateBeforeDestroy {
				del.blockers++
				create.waiters = append(create.waiters, del)
			} else {
				create.blockers++
				del.waiters = append(del.waiters, create)
			}
		}
	}
	for _, o := range w.ops {
		if o.action == providers.ActionDelete {
			if n := w.downPending[o.resource]; n > 0 {
				o.blockers++
				w.downWaiters[o.resource] = append(w.downWaiters[o.resource], o)
			}
			continue
		}
		for _, d := range o.rc.Dependencies {
			if w.upPending[d] > 0 {
				o.blockers++
				w.upWaiters[d] = append(w.upWaiters[d], o)
			}
		}
	}
	for _, o := range w.ops {
		if o.blockers == 0 {
			w.ready = append(w.ready, o)
		}
	}
}

func (w *walker) addUp(rc *plans.ResourceChange, res string, a providers.Action) *op {
	o := &op{rc: rc, action: a, resource: res}
	w.ops = append(w.ops, o)
	w.upPending[res]++
	return o
}

func (w *walker) addDown(rc *plans.ResourceChange, res string) *op {
	o := &op{rc: rc, action: providers.ActionDelete, resource: res}
	w.ops = append(w.ops, o)
	for _, d := range rc.Dependencies {
		w.downPending[d]++
	}
	return o
}

// finish releases what waited for o.
func (w *walker) finish(o *op) {
	o.done = true
	for _, x := range o.waiters {
		w.release(x)
	}
	if o.action == providers.ActionDelete {
		for _, d := range o.rc.Dependencies {
			if w.downPending[d]--; w.downPending[d] == 0 {
				for _, x := range w.downWaiters[d] {
					w.release(x)
				}
			}
		}
		return
	}
	if w.upPending[o.resource]--; w.upPending[o.resource] == 0 {
		for _, x := range w.upWaiters[o.resource] {
			w.release(x)
		}
	}
}

func (w *walker) release(o *op) {
	if o.blockers--; o.blockers == 0 {
		w.ready = append(w.ready, o)
	}
}

// run dispatches ready operations and handles their events until nothing can run and
// every record is in the journal.
func (w *walker) run() {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	defer w.closeSessions()
	defer w.rec.close()
	for {
		for !w.stopping && !w.journalFailed && len(w.ready) > 0 && len(w.inFlight) < w.opts.Parallelism {
			o := w.ready[0]
			w.ready = w.ready[1:]
			w.dispatch(o)
		}
		if len(w.inFlight) == 0 && w.unrecorded == 0 {
			break
		}
		select {
		case ev := <-w.events:
			w.handle(ev)
		case r := <-w.rec.results:
			w.recorded(r)
		case <-ticker.C:
			w.noteStillRunning()
		case <-w.ctx.Done():
			if !w.stopping {
				w.stopping = true
				w.diags = w.diags.Append(diag.Diagnostic{Severity: diag.Error, Summary: "Apply interrupted",
					Detail: "Stopped starting new changes; the changes in flight were allowed to finish and are recorded in state. Run apply again to continue."})
				w.stopSessions()
			}
			// Keep draining events of in-flight changes.
			select {
			case ev := <-w.events:
				w.handle(ev)
			case r := <-w.rec.results:
				w.recorded(r)
			case <-ticker.C:
				w.noteStillRunning()
			}
		}
	}
	w.reportSkipped()
}

func (w *walker) dispatch(o *op) {
	s, err := w.session(o.rc.Provider)
	now := w.opts.Now()
	o.started, o.lastNote = now, now
	w.opts.Progress(ProgressEvent{Type: ProgressStarted, Address: o.rc.Address, Action: o.action})
	if err != nil {
		w.fail(o, err.Error())
		return
	}
	w.inFlight[key(o)] = o
	ch := providers.Change{Address: o.rc.Address, Kind: o.rc.Kind, Action: o.action}
	if o.action != providers.ActionCreate {
		ch.ID, ch.Prior = o.rc.PriorID, o.rc.Before
	} else if o.rc.Action == plans.Replace {
		ch.Replacing = o.rc.PriorID
	}
	if o.action != providers.ActionDelete {
		ch.Planned = o.rc.After
	}
	s.send(ch)
}

// key identifies an in-flight operation; a replacement's halves never run at once.
func key(o *op) string { return o.rc.Address }

func (w *walker) handle(ev providerEvent) {
	if ev.sessionErr != nil {
		w.sessionFailed(ev.provider, ev.sessionErr)
		return
	}
	o := w.inFlight[ev.Address]
	if o == nil {
		return
	}
	elapsed := w.opts.Now().Sub(o.started)
	switch ev.Type {
	case providers.EventProgress:
		w.opts.Progress(ProgressEvent{Type: ProgressStage, Address: ev.Address, Action: o.action, Stage: ev.Stage, Message: ev.Message, Elapsed: elapsed})
	case providers.EventLog:
		w.opts.Progress(ProgressEvent{Type: ProgressLog, Address: ev.Address, Action: o.action, Message: ev.Message, Elapsed: elapsed})
	case providers.EventDone:
		delete(w.inFlight, ev.Address)
		recording := w.record(o, ev, false)
		w.opts.Progress(ProgressEvent{Type: ProgressDone, Address: ev.Address, Action: o.action, Elapsed: elapsed})
		w.count(o)
		if !recording {
			w.finish(o)
		}
	case providers.EventFailed:
		delete(w.inFlight, ev.Address)
		if ev.New != nil && o.action == providers.ActionCreate {
			w.record(o, ev, true)
		}
		msg := ev.Message
		if len(ev.Diagnostics) > 0 {
			msg = ev.Diagnostics[0].Summary + ": " + ev.Diagnostics[0].Detail
		}
		w.fail(o, msg)
	}
}

func (w *walker) count(o *op) {
	switch {
	case o.rc.Action == plans.Replace && o.action == providers.ActionCreate:
		w.summary.Added++
	case o.rc.Action == plans.Replace:
		w.summary.Destroyed++
	case o.action == providers.ActionCreate:
		w.summary.Added++
	case o.action == providers.ActionUpdate:
		w.summary.Changed++
	case o.action == providers.ActionDelete:
		w.summary.Destroyed++
	}
}

func (w *walker) fail(o *op, msg string) {
	w.summary.Failed++
	w.opts.Progress(ProgressEvent{Type: ProgressFailed, Address: o.rc.Address, Action: o.action, Message: msg, Elapsed: w.opts.Now().Sub(o.started)})
	d := diag.Diagnostic{Severity: diag.Error, Summary: fmt.Sprintf("Failed to %s %s", o.action, o.rc.Address),
		Detail: fmt.Sprintf("The %q provider reported: %s", o.rc.Provider, msg), Address: o.rc.Address}
	if r := o.rc.DeclRange; r != nil {
		d.Subject = r.HCL()
	}
	w.diags = w.diags.Append(d)
}

// record writes a finished operation into state and hands it to the journal; it
// reports whether a journal record is on its way (then o finishes when it is durable).
// A tainted record is a create that failed half-way: nothing waits for it.
func (w *walker) record(o *op, ev providerEvent, tainted bool) bool {
	if o.action == providers.ActionDelete {
		if o.rc.Action == plans.Replace && !o.rc.CreateBeforeDestroy {
			return false // the create that follows overwrites the entry
		}
		if cur := w.state.Get(o.rc.Address); cur != nil && cur.ID == o.rc.PriorID {
			_ = w.state.Remove(o.rc.Address)
			w.journalRemove(o.rc.Address, o)
			return true
		}
		return false
	}
	now := w.opts.Now().UTC()
	inst := &states.Instance{Address: o.rc.Address, Kind: o.rc.Kind, Provider: o.rc.Provider, ID: ev.ID,
		Attrs: ev.New, AttrsHash: providers.AttrsHash(ev.New), ConfigHash: o.rc.ConfigHash,
		Dependencies: o.rc.Dependencies, CreatedAt: now, UpdatedAt: now, Sensitive: o.rc.SensitiveAttributes}
	if prev := w.state.Get(o.rc.Address); prev != nil && o.action == providers.ActionUpdate {
		inst.CreatedAt = prev.CreatedAt
	}
	inst.Tainted = tainted
	w.state.Put(inst)
	if tainted {
		o = nil
	}
	w.journalPut(inst, o)
	return true
}

// journalPut hands inst to the journal; inst must not change afterwards. When o is not
// nil, o finishes (its dependents may start) once the record is durable.
func (w *walker) journalPut(inst *states.Instance, o *op) {
	w.unrecorded++
	w.rec.add(record{inst: inst, o: o})
}

func (w *walker) journalRemove(addr string, o *op) {
	w.unrecorded++
	w.rec.add(record{addr: addr, o: o})
}

// recorded takes a record's result: what waited for its operation may start.
// An instance that cannot be recorded (its attributes are not a JSON object: a provider
// bug) fails alone; any other error fails the journal, and nothing more is started.
func (w *walker) recorded(r recorded) {
	w.unrecorded--
	var invalid *statefile.InvalidInstanceError
	switch {
	case errors.As(r.err, &invalid):
		// Keep it out of the final state too, which it would stop from being written.
		_ = w.state.Remove(invalid.Address)
		w.diags = w.diags.Append(diag.Diagnostic{Severity: diag.Error, Summary: "Cannot record an instance", Address: invalid.Address,
			Detail: fmt.Sprintf("%s. The provider's answer cannot be stored in state; what depends on it was not started.", invalid.Msg)})
	case r.err != nil:
		w.journalErr(r.err)
	case r.o != nil:
		w.finish(r.o)
	}
}

func (w *walker) noteStillRunning() {
	now := w.opts.Now()
	addrs := make([]string, 0, len(w.inFlight))
	for a, o := range w.inFlight {
		if now.Sub(o.lastNote) >= w.opts.StillRunningEvery {
			addrs = append(addrs, a)
		}
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		o := w.inFlight[a]
		o.lastNote = now
		w.opts.Progress(ProgressEvent{Type: ProgressStill, Address: a, Action: o.action, Elapsed: now.Sub(o.started)})
	}
}

// reportSkipped lists operations that never ran because something they wait for failed
// (or the apply was interrupted).
func (w *walker) reportSkipped() {
	for _, o := range w.ops {
		if o.done || !o.started.IsZero() {
			continue
		}
		w.summary.Skipped++
		reason := "a change it depends on failed"
		switch {
		case w.stopping:
			reason = "the apply was interrupted"
		case w.journalFailed:
			reason = "changes could no longer be recorded in state"
		}
		w.opts.Progress(ProgressEvent{Type: ProgressSkipped, Address: o.rc.Address, Action: o.action, Message: reason})
	}
}
