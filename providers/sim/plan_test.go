package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fabrica-iac/fabrica/providers"
)

// planned is a PlannedChange in a comparable form.
type planned struct {
	Planned         string
	Unknown         []string
	RequiresReplace []string
	Diags           []string
}

const priorHW = `{"device_type":"dgx-h100","facility":"facility.dc1","id":"sim-hardware-7","rack":"r1","role":"compute","serial_number":"SIM0001","stage":"in-service"}`

// planTests are the paths through Plan.
var planTests = []struct {
	name string
	item providers.PlanItem
	want planned
}{{
	name: "create hardware",
	item: providers.PlanItem{Kind: "hardware", Desired: hardwareAttrs("r1")},
	want: planned{
		Planned: `{"device_type":"dgx-h100","facility":"facility.dc1","rack":"r1","role":"compute","stage":"in-service"}`,
		Unknown: []string{"bmc_password", "id", "serial_number"},
	},
}, {
	name: "create facility",
	item: providers.PlanItem{Kind: "facility", Desired: providers.Attrs(`{"design_pue":1.2,"it_power_kw":1000}`)},
	want: planned{Planned: `{"design_pue":1.2,"it_power_kw":1000}`, Unknown: []string{"id"}},
}, {
	name: "no change keeps computed attributes",
	item: providers.PlanItem{Kind: "hardware", ID: "sim-hardware-7", Prior: providers.Attrs(priorHW), Desired: hardwareAttrs("r1")},
	want: planned{Planned: priorHW},
}, {
	name: "update in place",
	item: providers.PlanItem{Kind: "hardware", ID: "sim-hardware-7", Prior: providers.Attrs(priorHW),
		Desired: providers.Attrs(`{"device_type":"dgx-h100","facility":"facility.dc1","rack":"r1","role":"storage"}`)},
	want: planned{Planned: `{"device_type":"dgx-h100","facility":"facility.dc1","id":"sim-hardware-7","rack":"r1","role":"storage","serial_number":"SIM0001","stage":"in-service"}`},
}, {
	name: "moving racks replaces",
	item: providers.PlanItem{Kind: "hardware", ID: "sim-hardware-7", Prior: providers.Attrs(priorHW), Desired: hardwareAttrs("r2")},
	want: planned{
		Planned:         `{"device_type":"dgx-h100","facility":"facility.dc1","rack":"r2","role":"compute","stage":"in-service"}`,
		Unknown:         []string{"bmc_password", "id", "serial_number"},
		RequiresReplace: []string{"rack"},
	},
}, {
	name: "storage kind and facility replace",
	item: providers.PlanItem{Kind: "storage", ID: "sim-storage-1",
		Prior:   providers.Attrs(`{"facility":"a","id":"sim-storage-1","kind":"ceph","nodes":3}`),
		Desired: providers.Attrs(`{"facility":"b","kind":"weka","nodes":3}`)},
	want: planned{
		Planned:         `{"facility":"b","kind":"weka","nodes":3}`,
		Unknown:         []string{"id"},
		RequiresReplace: []string{"facility", "kind"},
	},
}, {
	name: "absent equals null",
	item: providers.PlanItem{Kind: "facility", ID: "sim-facility-1",
		Prior:   providers.Attrs(`{"id":"sim-facility-1","it_power_kw":1}`),
		Desired: providers.Attrs(`{"it_power_kw":1,"region":null}`)},
	want: planned{Planned: `{"id":"sim-facility-1","it_power_kw":1,"region":null}`},
}, {
	name: "configuration cannot set computed attributes",
	item: providers.PlanItem{Kind: "fabric", Desired: providers.Attrs(`{"id":"mine","transport":"roce"}`)},
	want: planned{Planned: `{"transport":"roce"}`, Unknown: []string{"id"}},
}, {
	name: "delete",
	item: providers.PlanItem{Kind: "hardware", ID: "sim-hardware-7", Prior: providers.Attrs(priorHW)},
	want: planned{},
}, {
	name: "training_job is not sim's",
	item: providers.PlanItem{Kind: "training_job", Desired: providers.Attrs(`{}`)},
	want: planned{Diags: []string{"Unsupported resource kind"}},
}, {
	name: "desired not an object",
	item: providers.PlanItem{Kind: "facility", Desired: providers.Attrs(`[1]`)},
	want: planned{Diags: []string{"Invalid desired attributes"}},
}}

func TestPlan(t *testing.T) {
	p := New()
	for _, tt := range planTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.item.Address = "x.y"
			resp := p.Plan(context.Background(), providers.PlanRequest{Items: []providers.PlanItem{tt.item}})
			pc := resp.Changes[0]
			got := planned{Planned: string(pc.Planned), Unknown: pc.Unknown, RequiresReplace: pc.RequiresReplace}
			for _, d := range pc.Diagnostics {
				got.Diags = append(got.Diags, d.Summary)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if pc.Address != "x.y" {
				t.Errorf("Address = %q", pc.Address)
			}
		})
	}
}

func TestPlan_batchKeepsOrder(t *testing.T) {
	items := make([]providers.PlanItem, planParallelMin*2+3)
	for i := range items {
		items[i] = providers.PlanItem{Address: addr(i), Kind: "hardware", Desired: hardwareAttrs(addr(i))}
	}
	resp := New().Plan(context.Background(), providers.PlanRequest{Items: items})
	for i, pc := range resp.Changes {
		if pc.Address != addr(i) || attr(t, pc.Planned, "rack") != `"`+addr(i)+`"` {
			t.Fatalf("change %d is for %s", i, pc.Address)
		}
	}
}

// A batch plans runs of equal creates once; every item's answer is what planning it
// alone gives.
func TestPlan_batchOfEqualCreates(t *testing.T) {
	var items []providers.PlanItem
	for i := range planParallelMin*2 + 7 {
		it := providers.PlanItem{Address: addr(i), Kind: "hardware", Desired: hardwareAttrs(fmt.Sprintf("r%d", i/4))}
		switch i % 11 {
		case 5: // an update in the middle of a run
			it.ID, it.Prior = "sim-hardware-1", hardwareAttrs("r0")
		case 7: // another kind with the same attributes
			it.Kind = "fabric"
		case 9: // a delete
			it.Desired = nil
		}
		items = append(items, it)
	}
	resp := New().Plan(context.Background(), providers.PlanRequest{Items: items})
	for i, it := range items {
		want := planItem(it)
		if d := cmp.Diff(want, resp.Changes[i]); d != "" {
			t.Fatalf("item %d (%s): batch differs from planning it alone (-alone +batch):\n%s", i, it.Address, d)
		}
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		config string
		want   []string // attribute: summary
	}{
		{`{}`, nil},
		{`null`, nil},
		{`{"latency":"50ms","failure_rate":0.5,"seed":3}`, nil},
		{`{"latency":null}`, nil},
		{`{"latency":"fast"}`, []string{"latency: Invalid latency"}},
		{`{"latency":50}`, []string{"latency: Invalid latency"}},
		{`{"latency":"-1s"}`, []string{"latency: Invalid latency"}},
		{`{"failure_rate":1.5}`, []string{"failure_rate: Invalid failure_rate"}},
		{`{"failure_rate":"x","seed":1.5}`, []string{"failure_rate: Invalid failure_rate", "seed: Invalid seed"}},
		{`{"latncy":"1s"}`, []string{"latncy: Unsupported argument"}},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			resp := New().Configure(context.Background(), providers.ConfigureRequest{Config: json.RawMessage(tt.config), WorkDir: t.TempDir()})
			var got []string
			for _, d := range resp.Diagnostics {
				got = append(got, d.Attribute+": "+d.Summary)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestInfo(t *testing.T) {
	info, err := New().Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dr_site", "fabric", "facility", "hardware", "storage", "training_cluster"}
	if info.Name != Name || !cmp.Equal(info.Kinds, want) {
		t.Errorf("Info = %+v", info)
	}
}

// forSizedChunks covers every item once, in contiguous chunks whose total sizes differ
// by at most the largest item, or runs them all at once below its thresholds.
func TestForSizedChunks(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two CPUs to split")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		n := r.IntN(300)
		sizes := make([]int, n)
		largest := 0
		for i := range sizes {
			sizes[i] = 1 + r.IntN(100)
			if r.IntN(50) == 0 {
				sizes[i] = 100_000 // a fabric among servers
			}
			largest = max(largest, sizes[i])
		}
		var mu sync.Mutex
		seen := make([]int, n)
		var chunks [][2]int
		forSizedChunks(n, 10, 1<<30, func(i int) int { return sizes[i] }, func(lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			chunks = append(chunks, [2]int{lo, hi})
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n %d: item %d planned %d times", n, i, c)
			}
		}
		if n < 10 {
			if len(chunks) > 1 {
				t.Fatalf("n %d: split below the threshold: %v", n, chunks)
			}
			continue
		}
		var totals []int
		for _, c := range chunks {
			sum := 0
			for i := c[0]; i < c[1]; i++ {
				sum += sizes[i]
			}
			totals = append(totals, sum)
		}
		if len(totals) == 2 && max(totals[0]-totals[1], totals[1]-totals[0]) > largest {
			t.Fatalf("n %d: chunks %v of sizes %v, largest item %d", n, chunks, totals, largest)
		}
	}
}
