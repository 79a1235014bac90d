package planner

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/local"
	"github.com/fabrica-iac/fabrica/providers/providertest"
	"github.com/google/go-cmp/cmp"
)

const labSource = `
facility "lab" {
  it_power_kw = 100
  design_pue  = 1.2
}
hardware "n" {
  count       = 3
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = "r1"
}
fabric "lan" {
  facility  = facility.lab
  transport = "ethernet"
  endpoints = hardware.n
}
`

// harness runs plan and apply against a fake provider and a real local state backend.
type harness struct {
	t       *testing.T
	fake    *providertest.Fake
	backend *local.Backend
	src     string
	source  ProviderSource // serves fake when nil
}

func newHarness(t *testing.T, src string) *harness {
	return &harness{t: t, fake: providertest.New(), backend: local.New(filepath.Join(t.TempDir(), "state.json")), src: src}
}

func (h *harness) plan(opts PlanOptions) (*plans.Plan, *states.State) {
	h.t.Helper()
	p, st, _ := h.planWithState(opts)
	return p, st
}

// planDiags plans and returns the diagnostics that are not errors, as "summary: detail".
func (h *harness) planDiags(opts PlanOptions) (*plans.Plan, []string) {
	h.t.Helper()
	p, _, diags := h.planWithState(opts)
	return p, diags
}

func (h *harness) planWithState(opts PlanOptions) (*plans.Plan, *states.State, []string) {
	h.t.Helper()
	ev := evalSource(h.t, h.src)
	st, err := h.backend.Load(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	if opts.Mode == "" {
		opts.Refresh = true
	}
	p, diags := Plan(context.Background(), ev, st, h.providers(), opts)
	if diags.HasErrors() {
		h.t.Fatal(diags.Err())
	}
	var msgs []string
	for _, d := range diags {
		msgs = append(msgs, d.Summary+": "+d.Detail)
	}
	return p, st, msgs
}

func (h *harness) providers() *Providers {
	if h.source != nil {
		return NewProviders(h.source, nil, nil, h.t.TempDir())
	}
	return NewProviders(providertest.Source{"sim": h.fake}, nil, nil, h.t.TempDir())
}

func (h *harness) apply(p *plans.Plan) (*states.State, ApplySummary, string) {
	h.t.Helper()
	ctx := context.Background()
	id, err := h.backend.Lock(ctx, states.NewLockInfo("apply"))
	if err != nil {
		h.t.Fatal(err)
	}
	defer h.backend.Unlock(ctx, id)
	base, err := h.backend.Load(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	st, sum, diags := Apply(ctx, p, h.backend, base, h.providers(), ApplyOptions{Parallelism: 4})
	var msgs []string
	for _, d := range diags {
		msgs = append(msgs, d.Summary+": "+d.Detail)
	}
	return st, sum, strings.Join(msgs, "\n")
}

func actions(p *plans.Plan) map[string]plans.Action {
	out := map[string]plans.Action{}
	for _, rc := range p.ResourceChanges {
		out[rc.Address] = rc.Action
	}
	return out
}

func TestPlanApply_lifecycle(t *testing.T) {
	h := newHarness(t, labSource)
	p, _ := h.plan(PlanOptions{})
	want := map[string]plans.Action{"facility.lab": plans.Create, "hardware.n[0]": plans.Create, "hardware.n[1]": plans.Create,
		"hardware.n[2]": plans.Create, "fabric.lan": plans.Create}
	if d := cmp.Diff(want, actions(p)); d != "" {
		t.Fatalf("first plan (-want +got):\n%s", d)
	}
	st, sum, errs := h.apply(p)
	if errs != "" || sum.Added != 5 || st.Len() != 5 {
		t.Fatalf("apply: %+v, %d instances, errors %q", sum, st.Len(), errs)
	}

	// Nothing changed: no-op everywhere and no provider Plan call.
	before := h.fake.PlanItems
	p, _ = h.plan(PlanOptions{})
	if p.HasChanges() || h.fake.PlanItems != before {
		t.Fatalf("second plan has changes %v or planned %d items", actions(p), h.fake.PlanItems-before)
	}

	// Drift is seen and planned as an in-place update of that attribute.
	h.fake.Set("hardware.n[1]", "rack", "r9")
	p, _ = h.plan(PlanOptions{})
	rc := findChange(p, "hardware.n[1]")
	if rc.Action != plans.Update || rc.Reason != "drift" || !cmp.Equal(rc.ChangedAttributes, []string{"rack"}) {
		t.Fatalf("drift: %s %s %v", rc.Action, rc.Reason, rc.ChangedAttributes)
	}
	if _, sum, errs = h.apply(p); errs != "" || sum.Changed != 1 {
		t.Fatalf("apply drift fix: %+v %q", sum, errs)
	}

	// Destroy deletes everything; the next plan creates everything again.
	p, _ = h.plan(PlanOptions{Mode: plans.ModeDestroy})
	if c := p.Counts(); c.Destroy != 5 {
		t.Fatalf("destroy plan: %+v", c)
	}
	if st, _, errs = h.apply(p); errs != "" || st.Len() != 0 || h.fake.Len() != 0 {
		t.Fatalf("destroy: %d left in state, %d in world, %q", st.Len(), h.fake.Len(), errs)
	}
	p, _ = h.plan(PlanOptions{})
	if c := p.Counts(); c.Add != 5 {
		t.Fatalf("plan after destroy: %+v", c)
	}
}

func findChange(p *plans.Plan, addr string) *plans.ResourceChange {
	for _, rc := range p.ResourceChanges {
		if rc.Address == addr {
			return rc
		}
	}
	return &plans.ResourceChange{}
}

func TestApply_failureSkipsDependentsOnly(t *testing.T) {
	h := newHarness(t, labSource)
	h.fake.FailOn["hardware.n[1]"] = true
	p, _ := h.plan(PlanOptions{})
	st, sum, errs := h.apply(p)
	if sum.Failed != 1 || sum.Skipped != 1 || sum.Added != 3 {
		t.Fatalf("summary %+v", sum)
	}
	if !strings.Contains(errs, "injected failure of hardware.n[1]") {
		t.Errorf("errors do not name the failure: %q", errs)
	}
	if st.Get("hardware.n[2]") == nil || st.Get("fabric.lan") != nil {
		t.Errorf("state: want hardware.n[2] applied and fabric.lan skipped, got %v", st.Addresses())
	}
	// The next plan retries what failed and was skipped.
	delete(h.fake.FailOn, "hardware.n[1]")
	p, _ = h.plan(PlanOptions{})
	if c := p.Counts(); c.Add != 2 {
		t.Fatalf("retry plan: %+v", c)
	}
}

// A provider answer that cannot be stored fails that instance alone: independent
// changes go on, what depends on it is skipped, and the state is still written.
func TestApply_unrecordableInstanceFailsAlone(t *testing.T) {
	h := newHarness(t, labSource)
	h.fake.BadAttrsOn["hardware.n[1]"] = true
	p, _ := h.plan(PlanOptions{})
	st, sum, errs := h.apply(p)
	if !strings.Contains(errs, "Cannot record an instance") || strings.Contains(errs, "Cannot save state") {
		t.Fatalf("errors: %q", errs)
	}
	if sum.Skipped != 1 || st.Get("hardware.n[1]") != nil || st.Get("hardware.n[2]") == nil || st.Get("fabric.lan") != nil {
		t.Errorf("summary %+v, state %v: want n[1] not recorded, n[2] recorded, fabric.lan skipped", sum, st.Addresses())
	}
}

// A state written before its provider declared an attribute secret learns the name on
// the next apply, without a provider call or a change, and plans that start no provider
// redact the attribute from then on.
func TestPlan_stateLearnsSensitiveNames(t *testing.T) {
	h := newHarness(t, labSource)
	p, _ := h.plan(PlanOptions{})
	if _, _, errs := h.apply(p); errs != "" {
		t.Fatal(errs)
	}
	h.fake.Sensitive = map[string][]string{"hardware": {"rack"}}
	p, _ = h.plan(PlanOptions{Refresh: true})
	rc := findChange(p, "hardware.n[0]")
	if p.HasChanges() || !p.NeedsApply() || !rc.RecordOnly || !slices.Equal(rc.SensitiveAttributes, []string{"rack"}) {
		t.Fatalf("plan: changes %v, hardware.n[0] record-only %v, sensitive %v", actions(p), rc.RecordOnly, rc.SensitiveAttributes)
	}
	before := h.fake.PlanItems
	st, _, errs := h.apply(p)
	if errs != "" || !slices.Equal(st.Get("hardware.n[0]").Sensitive, []string{"rack"}) || h.fake.PlanItems != before {
		t.Fatalf("apply: %q; state names %v", errs, st.Get("hardware.n[0]").Sensitive)
	}
	h.fake.Sensitive = nil // as if the provider were never started
	p, _ = h.plan(PlanOptions{Refresh: false})
	rc = findChange(p, "hardware.n[0]")
	if p.NeedsApply() || !slices.Equal(rc.SensitiveAttributes, []string{"rack"}) {
		t.Errorf("plan without refresh: needs apply %v, sensitive %v", p.NeedsApply(), rc.SensitiveAttributes)
	}
	if after := string(findChange(plans.Redact(p), "hardware.n[0]").After); !strings.Contains(after, `"rack":"(sensitive)"`) {
		t.Errorf("redacted plan shows hardware.n[0] as %s", after)
	}
}

func TestApply_stalePlanRefused(t *testing.T) {
	h := newHarness(t, labSource)
	p, _ := h.plan(PlanOptions{})
	if _, _, errs := h.apply(p); errs != "" {
		t.Fatal(errs)
	}
	_, _, errs := h.apply(p)
	if !strings.Contains(errs, "Saved plan is stale") || !strings.Contains(errs, "serial") {
		t.Fatalf("applying a plan twice: %q", errs)
	}
}

func TestPlan_replaceAndCountLowered(t *testing.T) {
	h := newHarness(t, labSource)
	h.fake.ReplaceOn = []string{"device_type"}
	p, _ := h.plan(PlanOptions{})
	h.apply(p)
	h.src = strings.Replace(strings.Replace(labSource, "count       = 3", "count       = 2", 1), `"cpu-server"`, `"storage-server"`, 1)
	p, _ = h.plan(PlanOptions{})
	got := actions(p)
	if got["hardware.n[2]"] != plans.Delete || got["hardware.n[0]"] != plans.Replace {
		t.Fatalf("actions: %v", got)
	}
	if rc := findChange(p, "hardware.n[0]"); !cmp.Equal(rc.ReplacePaths, []string{"device_type"}) {
		t.Errorf("replace paths %v", rc.ReplacePaths)
	}
	st, sum, errs := h.apply(p)
	if errs != "" || st.Len() != 4 || sum.Destroyed != 3 || sum.Added != 2 {
		t.Fatalf("apply: %+v, %d instances, %q", sum, st.Len(), errs)
	}
}

func TestPlan_targetsAndExcludes(t *testing.T) {
	h := newHarness(t, labSource)
	p, _ := h.plan(PlanOptions{Refresh: true, Targets: []string{"hardware.n[1]"}})
	if d := cmp.Diff(map[string]plans.Action{"facility.lab": plans.Create, "hardware.n[1]": plans.Create}, actions(p)); d != "" {
		t.Errorf("target (-want +got):\n%s", d)
	}
	p, _ = h.plan(PlanOptions{Refresh: true, Excludes: []string{"hardware.n"}})
	if d := cmp.Diff(map[string]plans.Action{"facility.lab": plans.Create}, actions(p)); d != "" {
		t.Errorf("exclude (-want +got):\n%s", d)
	}
}

// Large plans are sorted by resource groups, or one by one in halves merged: the order
// must be the one sorting them whole gives, whatever the changes look like.
func TestSortChangesLarge(t *testing.T) {
	change := func(kind, name, key string) *plans.ResourceChange {
		return &plans.ResourceChange{Kind: kind, Name: name, Address: kind + "." + name + key}
	}
	cases := map[string]func() []*plans.ResourceChange{
		"no order": func() (cs []*plans.ResourceChange) {
			for i := range 20000 {
				kind := []string{"hardware", "fabric", "facility"}[i%3]
				cs = append(cs, change(kind, fmt.Sprintf("r%d", (i*7919)%613), fmt.Sprintf("[%d]", i%37)))
			}
			return cs
		},
		"racks in evaluation order": func() (cs []*plans.ResourceChange) {
			for r := range 5000 {
				rack := (r * 7919) % 5000
				for i := range 4 {
					cs = append(cs, change("hardware", fmt.Sprintf("r%d", rack), fmt.Sprintf("[%d]", i)))
				}
				if r%100 == 0 {
					cs = append(cs, change("fabric", fmt.Sprintf("f%d", r), ""))
				}
			}
			return cs
		},
		"interleaving resources (r01 and r1)": func() (cs []*plans.ResourceChange) {
			for r := range 3000 {
				for _, name := range []string{fmt.Sprintf("r%d", r), fmt.Sprintf("r0%d", r)} {
					for i := range 4 {
						cs = append(cs, change("hardware", name, fmt.Sprintf("[%d]", i*3+r%3)))
					}
				}
			}
			return cs
		},
		"a resource out of index order": func() (cs []*plans.ResourceChange) {
			for r := range 3000 {
				for _, i := range []int{2, 0, 1, 10, 3} {
					cs = append(cs, change("hardware", fmt.Sprintf("n%d", r), fmt.Sprintf("[%d]", i)))
				}
			}
			return cs
		},
		"for_each keys": func() (cs []*plans.ResourceChange) {
			for r := range 3000 {
				for _, k := range []string{`["a"]`, `["b"]`, `["b2"]`, `["b10"]`} {
					cs = append(cs, change("storage", fmt.Sprintf("s%d", 2999-r), k))
				}
			}
			return cs
		},
	}
	for name, make := range cases {
		cs := make()
		want := slices.Clone(cs)
		slices.SortFunc(want, func(a, b *plans.ResourceChange) int { return states.CompareAddresses(a.Address, b.Address) })
		sortChanges(cs)
		for i := range cs {
			if cs[i].Address != want[i].Address {
				t.Fatalf("%s: change %d is %s, want %s", name, i, cs[i].Address, want[i].Address)
			}
		}
	}
}

// A plan from empty state has no figures before it: what subtracting every created
// instance from the configuration's aggregate gives, which a plan from empty state no
// longer works out.
func TestImpact_fromEmptyState(t *testing.T) {
	src := labSource + `
facility "dr" {
  it_power_kw = 50
  design_pue  = 1.3
}
hardware "s" {
  count       = 2
  facility    = facility.dr
  device_type = "storage-server"
  rack        = "s1"
}
`
	h := newHarness(t, src)
	p, _ := h.plan(PlanOptions{})
	ev := evalSource(t, src)
	if n := len(beforeBySubtraction(ev, p).Summaries()); n != 0 {
		t.Fatalf("subtracting every create leaves %d facilities", n)
	}
	if len(p.Aggregates) != 2 {
		t.Fatalf("%d facilities in the plan's aggregates, want 2", len(p.Aggregates))
	}
	for _, a := range p.Aggregates {
		if a.Before != nil || a.After == nil {
			t.Errorf("%s: before %+v, after %+v; want nothing before", a.Address, a.Before, a.After)
		}
	}
	// A targeted plan creates only some instances: before is worked out by subtraction.
	p, _ = h.plan(PlanOptions{Targets: []string{"hardware.s"}})
	want := index(beforeBySubtraction(ev, p).Summaries())
	if len(want) == 0 {
		t.Fatal("the targeted plan has nothing before; the case tests nothing")
	}
	for _, a := range p.Aggregates {
		if !cmp.Equal(a.Before, want[a.Address]) {
			t.Errorf("targeted: %s before %+v, want %+v", a.Address, a.Before, want[a.Address])
		}
	}
}

// A plan locates every argument a block sets, its meta-arguments and nested blocks'
// arguments included, for findings and provider diagnostics to point at.
func TestPlan_attributeRanges(t *testing.T) {
	src := strings.Replace(labSource, `  endpoints = hardware.n
}`, `  endpoints  = hardware.n
  depends_on = [facility.lab]
}`, 1)
	h := newHarness(t, src)
	p, _ := h.plan(PlanOptions{})
	line := func(addr, name string) int {
		r := p.AttributeRanges[addr][name]
		if r == nil {
			t.Errorf("%s: no range for %s; have %v", addr, name, slices.Sorted(maps.Keys(p.AttributeRanges[addr])))
			return 0
		}
		return r.Start.Line
	}
	for _, c := range []struct {
		addr, name string
		line       int
	}{
		{"hardware.n", "count", 7}, {"hardware.n", "facility", 8}, {"hardware.n", "rack", 10},
		{"fabric.lan", "endpoints", 15}, {"fabric.lan", "depends_on", 16}, {"facility.lab", "design_pue", 4},
	} {
		if got := line(c.addr, c.name); got != c.line {
			t.Errorf("%s.%s on line %d, want %d", c.addr, c.name, got, c.line)
		}
	}
}
