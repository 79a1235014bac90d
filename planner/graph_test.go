package planner

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fabrica-iac/fabrica/schema/addrs"
)

// sortResources sorts as slices.SortFunc does, whether a list is sorted, a few sorted
// runs (which it merges) or many (which it sorts), with duplicates and across kinds.
func TestSortResourcesSorts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	kinds := []string{"fabric", "facility", "hardware", "storage"}
	random := func(n int) []addrs.Resource {
		out := make([]addrs.Resource, n)
		for i := range out {
			out[i] = addrs.Resource{Kind: kinds[r.IntN(len(kinds))], Name: fmt.Sprintf("n%03d", r.IntN(50))}
		}
		return out
	}
	for c := range 500 {
		var rs []addrs.Resource
		for range c % 12 { // 0 to 11 runs, each sorted
			run := random(r.IntN(40))
			slices.SortFunc(run, byKindName)
			rs = append(rs, run...)
		}
		if c%7 == 0 {
			rs = random(r.IntN(60)) // in no order
		}
		want := slices.Clone(rs)
		slices.SortFunc(want, byKindName)
		sortResources(rs)
		if !slices.Equal(rs, want) {
			t.Fatalf("case %d:\ngot  %v\nwant %v", c, rs, want)
		}
	}
}
