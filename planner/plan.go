package planner

import (
	"context"
	"encoding/json"
	"iter"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/fabrica-iac/fabrica/schema/diag"
)

// PlanOptions are the plan flags of DESIGN.md §4.
type PlanOptions struct {
	Mode plans.Mode
	// Refresh reads the actual state from providers first (--refresh=false skips it).
	Refresh bool
	// Targets limits the plan to these addresses and what they depend on.
	Targets []string
	// Excludes drops these addresses and what depends on them.
	Excludes []string
	// Replace forces the replacement of these instances.
	Replace []string
	// Refreshed is a refresh of the same state started before the plan (StartRefresh),
	// which the plan uses instead of starting its own.
	Refreshed *Refresh
}

// Refresh is a refresh of a state's instances running in the background.
type Refresh struct {
	prior  *states.State
	done   chan struct{}
	result *refreshResult
	diags  diag.Diagnostics
}

// StartRefresh starts reading every instance of prior from its provider and returns at
// once. The reads need the providers' configurations but not the rest of the
// configuration, so a command whose provider blocks are known before evaluating
// (StaticProviderConfigs) starts them beside the evaluation, and hands the refresh to
// Plan in PlanOptions.Refreshed: the provider's start (the sim provider loads its
// world) and its answers no longer wait for the evaluation.
func StartRefresh(ctx context.Context, prior *states.State, provs *Providers) *Refresh {
	r := &Refresh{prior: prior, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.result, r.diags = refresh(ctx, prior, readItems(prior), provs)
	}()
	return r
}

// wait returns the refresh's outcome once it is done.
func (r *Refresh) wait() (*refreshResult, diag.Diagnostics) {
	<-r.done
	return r.result, r.diags
}

// Plan compares the evaluated configuration with the state (refreshed from providers
// unless opts.Refresh is false) and proposes the changes. Instances whose configuration
// hash and actual attributes are unchanged since the last apply cost no provider call.
func Plan(ctx context.Context, ev *Evaluated, prior *states.State, provs *Providers, opts PlanOptions) (*plans.Plan, diag.Diagnostics) {
	if opts.Mode == "" {
		opts.Mode = plans.ModeNormal
	}
	p := &plans.Plan{
		FormatVersion: plans.FormatVersion, FabricaVersion: schema.Version, Mode: opts.Mode,
		Lineage: prior.Lineage, PriorSerial: prior.Serial, ConfigHash: ev.Config.SourceHash(),
	}
	var diags diag.Diagnostics
	diags = diags.Append(checkAddressArgs(ev, opts))
	if diags.HasErrors() {
		return p, diags
	}
	// Refresh (which starts and configures the providers that read state, then waits
	// for their answers) runs while the desired instances are encoded, if it is not
	// running already.
	var running *Refresh
	if opts.Refresh {
		if running = opts.Refreshed; running == nil || running.prior != prior {
			running = StartRefresh(ctx, prior, provs)
		}
	}
	desired := ev.DesiredInstances()
	refreshed := &refreshResult{state: prior}
	if running != nil {
		var d diag.Diagnostics
		refreshed, d = running.wait()
		if diags = diags.Append(d); diags.HasErrors() {
			return p, diags
		}
	}
	d := &differ{ev: ev, prior: refreshed.state, drift: refreshed.drifted, gone: refreshed.gone, provs: provs, opts: opts}
	switch opts.Mode {
	case plans.ModeRefreshOnly:
		p.ResourceChanges = refreshed.readChanges(prior)
	case plans.ModeDestroy:
		p.ResourceChanges = d.destroyAll()
	default:
		p.ResourceChanges, diags = d.diff(ctx, desired, diags)
	}
	addSensitiveNames(p.ResourceChanges, prior, provs)
	p.ResourceChanges = applyTargeting(p.ResourceChanges, opts)
	refused := make([]diag.Diagnostics, len(p.ResourceChanges))
	parallelFor(len(p.ResourceChanges), func(i int) { refused[i] = checkPreventDestroy(ev, p.ResourceChanges[i]) })
	for _, d := range refused {
		diags = diags.Append(d)
	}
	p.AttributeRanges = attributeRangesOf(ev, p.ResourceChanges)
	// The facility figures are worked out while the changes are sorted, from the
	// changes in evaluation order (a deterministic order too).
	unsorted := &plans.Plan{Mode: p.Mode, ResourceChanges: slices.Clone(p.ResourceChanges)}
	aggregates := make(chan []*plans.FacilityImpact, 1)
	go func() { aggregates <- impact(ev, unsorted, refreshed.state) }()
	sortChanges(p.ResourceChanges)
	p.Aggregates = <-aggregates
	p.Outputs = outputsJSON(ev)
	p.Variables = variablesJSON(ev)
	p.ProviderConfigs = provs.Configs()
	return p, diags
}

// attributeRangesOf returns the argument ranges of each resource of the changes that
// the configuration declares, for the plan's attribute_ranges: 25,000 racks' worth
// for 100,000 servers, worked out on every core.
func attributeRangesOf(ev *Evaluated, rcs []*plans.ResourceChange) map[string]map[string]*plans.Range {
	var ress []*schema.Resource
	var last addrs.Resource
	for _, rc := range rcs {
		r := addrs.Resource{Kind: rc.Kind, Name: rc.Name}
		if r == last { // instances of a resource are next to each other
			continue
		}
		last = r
		if res := ev.Config.Resource(r); res != nil {
			ress = append(ress, res)
		}
	}
	if len(ress) == 0 {
		return nil
	}
	ranges := make([]map[string]*plans.Range, len(ress))
	parallelFor(len(ress), func(i int) { ranges[i] = attributeRanges(ress[i]) })
	out := make(map[string]map[string]*plans.Range, len(ress))
	for i, res := range ress {
		out[res.Addr.String()] = ranges[i]
	}
	return out
}

// refreshResult is the state as providers report it now.
type refreshResult struct {
	state *states.State
	// drifted are instances whose actual attributes differ from state; gone are
	// instances whose object no longer exists.
	drifted map[string]bool
	gone    map[string]*states.Instance
}

// readItems lists every instance in state by provider, for refresh.
func readItems(prior *states.State) map[string][]providers.ReadItem {
	byProvider := map[string][]providers.ReadItem{}
	for inst := range prior.Instances() {
		items, ok := byProvider[inst.Provider]
		if !ok && len(byProvider) == 0 { // the first provider usually has almost all of them
			items = make([]providers.ReadItem, 0, prior.Len())
		}
		byProvider[inst.Provider] = append(items, providers.ReadItem{
			Address: inst.Address, Kind: inst.Kind, ID: inst.ID, PriorHash: inst.AttrsHash,
		})
	}
	return byProvider
}

// refresh reads the instances of byProvider, one batch per provider.
func refresh(ctx context.Context, prior *states.State, byProvider map[string][]providers.ReadItem, provs *Providers) (*refreshResult, diag.Diagnostics) {
	r := &refreshResult{state: prior, drifted: map[string]bool{}, gone: map[string]*states.Instance{}}
	var diags diag.Diagnostics
	copied := false
	for _, name := range sortedKeys(byProvider) {
		prov, err := provs.Get(ctx, name)
		if err != nil {
			diags = diags.Append(provs.startError(name, "refresh", err))
			continue
		}
		items := byProvider[name]
		resps, d := askInBatches(name, len(items), func(lo, hi int) providers.ReadResponse {
			return prov.Read(ctx, providers.ReadRequest{Items: items[lo:hi:hi]})
		}, func(r providers.ReadResponse) []providers.Diagnostic { return r.Diagnostics })
		diags = diags.Append(d)
		for res := range readResults(resps) {
			diags = diags.Append(providerDiags(name, res.Address, res.Diagnostics))
			if res.Unchanged {
				continue
			}
			if !copied {
				r.state, copied = prior.DeepCopy(), true
			}
			if res.Gone {
				r.gone[res.Address] = prior.Get(res.Address)
				_ = r.state.Remove(res.Address)
				continue
			}
			inst := r.state.Get(res.Address).DeepCopy()
			inst.Attrs, inst.AttrsHash = res.Attrs, res.Hash
			if inst.AttrsHash == "" {
				inst.AttrsHash = providers.AttrsHash(res.Attrs)
			}
			r.state.Put(inst)
			r.drifted[res.Address] = true
		}
	}
	return r, diags
}

// readResults yields the results of the batches in order.
func readResults(resps []providers.ReadResponse) iter.Seq[providers.ReadResult] {
	return func(yield func(providers.ReadResult) bool) {
		for _, resp := range resps {
			for _, res := range resp.Results {
				if !yield(res) {
					return
				}
			}
		}
	}
}

// readChanges lists what refresh changed, for a refresh-only plan.
func (r *refreshResult) readChanges(prior *states.State) []*plans.ResourceChange {
	var out []*plans.ResourceChange
	for _, addr := range sortedKeys(r.drifted) {
		before, after := prior.Get(addr), r.state.Get(addr)
		rc := changeFromState(before, plans.Read, "drift")
		rc.Before, rc.After = before.Attrs, after.Attrs
		rc.ChangedAttributes = changedAttributes(before.Attrs, after.Attrs)
		rc.RecordOnly = true
		out = append(out, rc)
	}
	return forgetGone(out, r.gone, nil)
}

// addSensitiveNames completes each change's sensitive attributes (so far those that
// derive from sensitive variables) with those its provider declares and those state
// recorded, so a secret stays redacted even in a plan that starts no provider.
func addSensitiveNames(changes []*plans.ResourceChange, prior *states.State, provs *Providers) {
	parallelChunks(len(changes), func(lo, hi int) {
		var provider, kind string
		var declared []string
		for _, rc := range changes[lo:hi] {
			if rc.Provider != provider || rc.Kind != kind { // a run of one resource's changes
				provider, kind = rc.Provider, rc.Kind
				declared = provs.DeclaredSensitive(provider, kind)
			}
			names := rc.SensitiveAttributes
			for _, more := range [2][]string{declared, prior.Get(rc.Address).SensitiveNames()} {
				switch {
				case len(more) == 0:
				case len(names) == 0:
					names = more // shared, never modified
				case containsAll(names, more): // usually: the same names from provider and state
				default:
					names = slices.Compact(slices.Sorted(slices.Values(slices.Concat(names, more))))
				}
			}
			rc.SensitiveAttributes = names
		}
	})
}

// containsAll reports whether every name in want is in have.
func containsAll(have, want []string) bool {
	for _, n := range want {
		if !slices.Contains(have, n) {
			return false
		}
	}
	return true
}

// changeFromState starts a change for an instance known only from state.
func changeFromState(inst *states.Instance, action plans.Action, reason string) *plans.ResourceChange {
	rc := &plans.ResourceChange{
		Address: inst.Address, Kind: inst.Kind, Provider: inst.Provider, Action: action, Reason: reason,
		Before: inst.Attrs, PriorID: inst.ID, Dependencies: inst.Dependencies, ConfigHash: inst.ConfigHash,
	}
	if a, err := addrs.ParseInstance(inst.Address); err == nil {
		rc.Name = a.Name
		rc.Index = keyIndex(a.Key)
	}
	return rc
}

func keyIndex(k addrs.Key) any {
	switch k.Type {
	case addrs.IntKey:
		return k.Int
	case addrs.StringKey:
		return k.Str
	}
	return nil
}

// sortChanges puts changes in address order. They come grouped by resource, each group
// in index order (hardware.r1[0], [1], …, then other resources), so the groups are
// sorted by their first address, and the result is checked to be in order; when it is
// not (two resources whose instances interleave, as r01 and r1 can, or changes in no
// such order), the changes are sorted one by one. For 100,000 servers in 25,000 racks
// that is 25,000 things to sort, not 100,000.
func sortChanges(cs []*plans.ResourceChange) {
	byAddress := func(a, b *plans.ResourceChange) int { return states.CompareAddresses(a.Address, b.Address) }
	if len(cs) < 1024 {
		slices.SortFunc(cs, byAddress)
		return
	}
	// A group: changes of one resource, each after the one before it.
	type group struct{ lo, hi int }
	var groups []group
	for lo := 0; lo < len(cs); {
		hi := lo + 1
		for hi < len(cs) && cs[hi].Kind == cs[lo].Kind && cs[hi].Name == cs[lo].Name && byAddress(cs[hi-1], cs[hi]) <= 0 {
			hi++
		}
		groups = append(groups, group{lo, hi})
		lo = hi
	}
	if len(groups) > len(cs)/2 {
		sortEach(cs, byAddress)
		return
	}
	slices.SortStableFunc(groups, func(a, b group) int { return byAddress(cs[a.lo], cs[b.lo]) })
	sorted := make([]*plans.ResourceChange, 0, len(cs))
	for _, g := range groups {
		if len(sorted) > 0 && byAddress(sorted[len(sorted)-1], cs[g.lo]) > 0 {
			sortEach(cs, byAddress)
			return
		}
		sorted = append(sorted, cs[g.lo:g.hi]...)
	}
	copy(cs, sorted)
}

// sortEach sorts changes one by one, a large list in halves on two cores then merged.
func sortEach(cs []*plans.ResourceChange, byAddress func(a, b *plans.ResourceChange) int) {
	if len(cs) < 8192 || runtime.GOMAXPROCS(0) < 2 {
		slices.SortFunc(cs, byAddress)
		return
	}
	lo, hi := slices.Clone(cs[:len(cs)/2]), slices.Clone(cs[len(cs)/2:])
	var wg sync.WaitGroup
	wg.Go(func() { slices.SortFunc(lo, byAddress) })
	slices.SortFunc(hi, byAddress)
	wg.Wait()
	i, j := 0, 0
	for k := range cs {
		if j == len(hi) || (i < len(lo) && byAddress(lo[i], hi[j]) <= 0) {
			cs[k], i = lo[i], i+1
		} else {
			cs[k], j = hi[j], j+1
		}
	}
}

func outputsJSON(ev *Evaluated) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(ev.Outputs))
	for name, v := range ev.Outputs {
		if o := ev.Config.Outputs[name]; (o != nil && o.Sensitive) || v.ContainsMarked() {
			out[name] = json.RawMessage(`"(sensitive)"`)
			continue
		}
		out[name] = valueJSON(v)
	}
	return out
}

func variablesJSON(ev *Evaluated) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(ev.Variables))
	for name, v := range ev.Variables {
		if decl := ev.Config.Variables[name]; decl != nil && decl.Sensitive {
			out[name] = json.RawMessage(`"(sensitive)"`)
			continue
		}
		out[name] = valueJSON(v)
	}
	return out
}

// checkAddressArgs checks --target, --exclude and --replace addresses.
func checkAddressArgs(ev *Evaluated, opts PlanOptions) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, list := range [][]string{opts.Targets, opts.Excludes, opts.Replace} {
		for _, a := range list {
			if _, err := addrs.ParseInstance(a); err != nil {
				diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Summary: "Invalid resource address", Detail: err.Error()})
			}
		}
	}
	return diags
}

// matchesAddress reports whether an instance address is selected by a target: the
// instance itself, or its resource when the target has no index.
func matchesAddress(addr, target string) bool {
	if addr == target {
		return true
	}
	return strings.HasPrefix(addr, target+"[")
}
