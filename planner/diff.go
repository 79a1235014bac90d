package planner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
)

// differ compares desired instances with the (refreshed) prior state.
type differ struct {
	ev    *Evaluated
	prior *states.State
	drift map[string]bool
	gone  map[string]*states.Instance
	provs *Providers
	opts  PlanOptions
}

// pending is a change that needs the provider's Plan.
type pending struct {
	rc      *plans.ResourceChange
	d       *Desired
	prior   *states.Instance
	replace bool // forced replacement (--replace or tainted)
}

// diff proposes a change per desired instance and a delete per orphan. The changes are
// proposed on every core; those that need a provider's Plan are then planned in
// batches. desired is every evaluated instance (Evaluated.DesiredInstances), so an
// instance in state is an orphan when the evaluation has no instance at its address.
func (df *differ) diff(ctx context.Context, desired []*Desired, diags diag.Diagnostics) ([]*plans.ResourceChange, diag.Diagnostics) {
	out := make([]*plans.ResourceChange, len(desired), len(desired)+1)
	pend := make([]*pending, len(desired)) // nil where no provider call is needed
	parallelChunks(len(desired), func(lo, hi int) {
		var run resourceRun
		for i := lo; i < hi; i++ {
			out[i], pend[i] = df.propose(desired[i], run.of(df, desired[i]))
		}
	})
	byProvider := map[string][]*pending{}
	for _, p := range pend {
		if p != nil {
			byProvider[p.d.Provider] = append(byProvider[p.d.Provider], p)
		}
	}
	for _, name := range sortedKeys(byProvider) {
		diags = diags.Append(df.planBatch(ctx, name, byProvider[name]))
	}
	wanted := func(addr string) bool { return df.ev.Instance(addr) != nil }
	for inst := range df.prior.Instances() {
		if !wanted(inst.Address) {
			out = append(out, changeFromState(inst, plans.Delete, "removed from configuration"))
		}
	}
	return forgetGone(out, df.gone, wanted), diags
}

// resourceRun remembers, for the resource whose instances are being proposed (they
// come one after the other), the attributes its provider declares secret and its
// declaration range, which are looked up under a lock.
type resourceRun struct {
	res       *schema.Resource
	provider  string
	sensitive []string
	decl      *plans.Range
}

func (r *resourceRun) of(df *differ, d *Desired) *resourceRun {
	if res := d.Instance.Resource; r.res != res || r.provider != d.Provider {
		*r = resourceRun{res: res, provider: d.Provider, sensitive: df.provs.DeclaredSensitive(d.Provider, d.Instance.Kind()),
			decl: df.ev.declRange(res)}
	}
	return r
}

// propose returns the change for one desired instance, and the pending provider call
// when it needs one.
func (df *differ) propose(d *Desired, run *resourceRun) (*plans.ResourceChange, *pending) {
	prior := df.prior.Get(d.Address)
	rc := df.newChange(d, prior, run.decl)
	forced := slices.ContainsFunc(df.opts.Replace, func(t string) bool { return matchesAddress(d.Address, t) })
	switch {
	case prior == nil:
		rc.Action, rc.Reason = plans.Create, "new"
		if df.gone[d.Address] != nil {
			rc.Reason = "gone"
		}
	case forced || prior.Tainted:
		rc.Reason = "replace requested"
		if prior.Tainted {
			rc.Reason = "tainted"
		}
	case prior.ConfigHash == d.Hash && !df.drift[d.Address]:
		rc.Action, rc.Before, rc.After = plans.NoOp, prior.Attrs, prior.Attrs
		// State written before its provider declared a secret learns the name.
		rc.RecordOnly = !containsAll(prior.Sensitive, run.sensitive) ||
			!containsAll(prior.Sensitive, d.Instance.Sensitive)
		return rc, nil // the fast path: no provider call
	}
	if prior != nil {
		d = withIgnoredChanges(d, prior)
	}
	return rc, &pending{rc: rc, d: d, prior: prior, replace: forced || (prior != nil && prior.Tainted)}
}

// forgetGone adds a record-only change for each instance that refresh found deleted
// outside fabrica and that no change re-creates, so apply drops it from state (else it
// would stay there, with nothing behind it, until a refresh-only apply).
func forgetGone(out []*plans.ResourceChange, gone map[string]*states.Instance, wanted func(addr string) bool) []*plans.ResourceChange {
	for _, addr := range sortedKeys(gone) { // in address order, so the plan is the same every time
		before := gone[addr]
		if wanted != nil && wanted(addr) {
			continue
		}
		rc := changeFromState(before, plans.Read, "gone")
		rc.Before, rc.After, rc.RecordOnly = before.Attrs, nil, true
		out = append(out, rc)
	}
	return out
}

func (df *differ) newChange(d *Desired, prior *states.Instance, decl *plans.Range) *plans.ResourceChange {
	inst := d.Instance
	res := inst.Resource
	rc := &plans.ResourceChange{
		Address: d.Address, Kind: inst.Kind(), Name: inst.Addr.Name, Index: keyIndex(inst.Addr.Key),
		Provider: d.Provider, After: d.Attrs, ConfigHash: d.Hash, Dependencies: d.Dependencies,
		Derived: res.Spec.Derived, CreateBeforeDestroy: res.Lifecycle.CreateBeforeDestroy,
		PreventDestroy: res.Lifecycle.PreventDestroy, DeclRange: decl,
		SensitiveAttributes: inst.Sensitive,
	}
	if prior != nil {
		rc.Before, rc.PriorID = prior.Attrs, prior.ID
	}
	return rc
}

// planBatch asks one provider to plan every pending change at once.
func (df *differ) planBatch(ctx context.Context, name string, items []*pending) diag.Diagnostics {
	prov, err := df.provs.Get(ctx, name)
	if err != nil {
		return diag.Diagnostics{df.provs.startError(name, "plan", err)}
	}
	reqItems := make([]providers.PlanItem, len(items))
	for i, p := range items {
		reqItems[i] = providers.PlanItem{Address: p.d.Address, Kind: p.rc.Kind, Desired: p.d.Attrs}
		if p.prior != nil {
			reqItems[i].ID, reqItems[i].Prior = p.prior.ID, p.prior.Attrs
		}
	}
	resps, diags := askInBatches(name, len(items), func(lo, hi int) providers.PlanResponse {
		return prov.Plan(ctx, providers.PlanRequest{Items: reqItems[lo:hi:hi]})
	}, func(r providers.PlanResponse) []providers.Diagnostic { return r.Diagnostics })
	changes := make([]providers.PlannedChange, 0, len(items))
	for b, resp := range resps {
		lo, hi := b*providerBatch, min((b+1)*providerBatch, len(items))
		if len(resp.Changes) != hi-lo {
			return diags.Append(providerError(name, "plan", fmt.Errorf("answered %d of %d items", len(resp.Changes), hi-lo)))
		}
		changes = append(changes, resp.Changes...)
	}
	for i, pc := range changes {
		p := items[i]
		diags = diags.Append(placeProviderDiags(df.ev, name, p.d, pc.Diagnostics))
		p.rc.After, p.rc.AfterUnknown = pc.Planned, pc.Unknown
		if p.prior == nil {
			continue
		}
		changed := changedAttributes(p.prior.Attrs, pc.Planned, pc.Unknown...)
		p.rc.ChangedAttributes = changed
		forcing := intersect(changed, pc.RequiresReplace)
		switch {
		case p.replace:
			p.rc.Action = plans.Replace
		case len(forcing) > 0:
			p.rc.Action, p.rc.ReplacePaths, p.rc.Reason = plans.Replace, forcing, "config changed"
		case len(changed) > 0:
			p.rc.Action, p.rc.Reason = plans.Update, "config changed"
			if df.drift[p.d.Address] {
				p.rc.Reason = "drift"
			}
		default:
			// Same attributes, new configuration hash: record it so the next plan is fast.
			p.rc.Action, p.rc.RecordOnly, p.rc.After = plans.NoOp, true, p.prior.Attrs
		}
		if pc.Reason != "" && p.rc.Action != plans.NoOp {
			p.rc.Reason = pc.Reason
		}
	}
	return diags
}

// destroyAll plans the deletion of every instance in state.
func (df *differ) destroyAll() []*plans.ResourceChange {
	out := make([]*plans.ResourceChange, 0, df.prior.Len())
	for inst := range df.prior.Instances() {
		out = append(out, changeFromState(inst, plans.Delete, "destroy"))
	}
	return forgetGone(out, df.gone, nil)
}

// checkPreventDestroy refuses to delete or replace an instance whose configuration has
// lifecycle.prevent_destroy, whatever the plan mode.
func checkPreventDestroy(ev *Evaluated, rc *plans.ResourceChange) diag.Diagnostics {
	inst := ev.Instance(rc.Address)
	if inst != nil && inst.Resource.Lifecycle.PreventDestroy {
		rc.PreventDestroy = true
	}
	if !rc.PreventDestroy || (rc.Action != plans.Delete && rc.Action != plans.Replace) {
		return nil
	}
	d := diag.Diagnostic{Severity: diag.Error, Summary: "Instance cannot be destroyed", Address: rc.Address,
		Detail: fmt.Sprintf("%s has lifecycle.prevent_destroy = true, but this plan would %s it. Remove prevent_destroy (or change the plan) if destroying it is really intended.",
			rc.Address, rc.Action)}
	if inst != nil && inst.Resource.Lifecycle.DeclRange != nil {
		rng := *inst.Resource.Lifecycle.DeclRange
		d.Subject = &rng
	}
	return diag.Diagnostics{d}
}

// withIgnoredChanges returns d with the lifecycle.ignore_changes attributes taken from
// prior, so changes to them are neither planned nor count as configuration changes.
func withIgnoredChanges(d *Desired, prior *states.Instance) *Desired {
	ignore := d.Instance.Resource.Lifecycle.IgnoreChanges
	if len(ignore) == 0 {
		return d
	}
	var want, have map[string]json.RawMessage
	if json.Unmarshal(d.Attrs, &want) != nil || json.Unmarshal(prior.Attrs, &have) != nil {
		return d
	}
	for _, name := range ignore {
		if v, ok := have[name]; ok {
			want[name] = v
		} else {
			delete(want, name)
		}
	}
	attrs, _ := json.Marshal(want)
	cp := *d
	cp.Attrs, cp.Hash = attrs, providers.AttrsHash(attrs)
	return &cp
}

// changedAttributes lists the top-level attributes whose values differ, skipping the
// ones listed as unknown (they are shown as "known after apply").
func changedAttributes(before, after json.RawMessage, unknown ...string) []string {
	var b, a map[string]json.RawMessage
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(after, &a)
	var out []string
	for k, av := range a {
		if slices.Contains(unknown, k) {
			continue
		}
		if bv, ok := b[k]; !ok || !bytes.Equal(compactJSON(bv), compactJSON(av)) {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok && !slices.Contains(unknown, k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func compactJSON(v json.RawMessage) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, v) != nil {
		return v
	}
	return buf.Bytes()
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
