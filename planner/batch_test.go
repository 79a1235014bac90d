package planner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/providertest"
)

// batching wraps a fake provider: it records the size of every Plan and Read call,
// holds the first call of each until a second one is in flight (or a few seconds have
// passed), counts the most calls in flight, and warns in every answer, as a provider
// does about what concerns all items.
type batching struct {
	*providertest.Fake
	mu                 sync.Mutex
	plans, reads       []int
	inFlight, most     int
	second             map[string]chan struct{}
	planWait, readWait sync.Once
}

func (b *batching) Start(context.Context, string) (providers.Provider, error) { return b, nil }

func (b *batching) enter(op string, sizes *[]int, n int, first *sync.Once) func() {
	b.mu.Lock()
	*sizes = append(*sizes, n)
	b.inFlight++
	b.most = max(b.most, b.inFlight)
	if b.second == nil {
		b.second = map[string]chan struct{}{}
	}
	ch, seen := b.second[op]
	if !seen {
		ch = make(chan struct{})
		b.second[op] = ch
	} else if len(*sizes) == 2 {
		close(ch)
	}
	b.mu.Unlock()
	first.Do(func() {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
		}
	})
	return func() {
		b.mu.Lock()
		b.inFlight--
		b.mu.Unlock()
	}
}

var batchWarning = providers.Diagnostic{Severity: providers.SeverityWarning, Summary: "World is busy", Detail: "Answers may be slow."}

func (b *batching) Plan(ctx context.Context, req providers.PlanRequest) providers.PlanResponse {
	defer b.enter("plan", &b.plans, len(req.Items), &b.planWait)()
	resp := b.Fake.Plan(ctx, req)
	resp.Diagnostics = append(resp.Diagnostics, batchWarning)
	return resp
}

func (b *batching) Read(ctx context.Context, req providers.ReadRequest) providers.ReadResponse {
	defer b.enter("read", &b.reads, len(req.Items), &b.readWait)()
	resp := b.Fake.Read(ctx, req)
	resp.Diagnostics = append(resp.Diagnostics, batchWarning)
	return resp
}

// A provider is asked in batches of providerBatch items, two at a time; each
// instance gets its own answer, and what the provider says about every batch is shown
// once.
func TestPlan_providerBatches(t *testing.T) {
	const nodes = 2*providerBatch + 6 // with the facility and the fabric: two full batches and 8
	src := strings.Replace(labSource, "count       = 3", fmt.Sprintf("count       = %d", nodes), 1)
	src = strings.Replace(src, "it_power_kw = 100", "it_power_kw = 100000", 1)
	src = strings.Replace(src, `rack        = "r1"`, `rack        = "r${count.index}"`, 1)
	src = strings.Replace(src, `transport = "ethernet"`, `transport = "ethernet"
  topology  = "three_tier"`, 1)
	h := newHarness(t, src)
	b := &batching{Fake: h.fake}
	h.source = b
	want := []int{providerBatch, providerBatch, 8}

	p, diags := h.planDiags(PlanOptions{})
	if got := slices.Sorted(slices.Values(b.plans)); !slices.Equal(got, []int{8, providerBatch, providerBatch}) || b.most != providerBatchesInFlight {
		t.Fatalf("plan batches %v (want %v in any order), %d in flight at most (want %d)", b.plans, want, b.most, providerBatchesInFlight)
	}
	checkOneWarning(t, diags)
	for _, rc := range p.ResourceChanges {
		if rc.Kind != "hardware" {
			continue
		}
		var i int
		if _, err := fmt.Sscanf(rc.Address, "hardware.n[%d]", &i); err != nil {
			t.Fatal(err)
		}
		if wantRack := fmt.Sprintf(`"rack":"r%d"`, i); rc.Action != plans.Create || !strings.Contains(string(rc.After), wantRack) {
			t.Fatalf("%s: %s, after %s; want a create with %s", rc.Address, rc.Action, rc.After, wantRack)
		}
	}
	if st, _, errs := h.apply(p); errs != "" || st.Len() != nodes+2 {
		t.Fatalf("apply: %d in state, errors %q", st.Len(), errs)
	}

	b.most = 0
	p, diags = h.planDiags(PlanOptions{})
	if got := slices.Sorted(slices.Values(b.reads)); !slices.Equal(got, []int{8, providerBatch, providerBatch}) || b.most != providerBatchesInFlight {
		t.Fatalf("read batches %v (want %v in any order), %d in flight at most (want %d)", b.reads, want, b.most, providerBatchesInFlight)
	}
	checkOneWarning(t, diags)
	if p.HasChanges() {
		t.Fatalf("plan after apply has changes: %+v", p.Counts())
	}
}

func checkOneWarning(t *testing.T, diags []string) {
	t.Helper()
	n := 0
	for _, d := range diags {
		if strings.Contains(d, batchWarning.Summary) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the batch warning shown %d times, want once: %q", n, diags)
	}
}
