package schema

import (
	"math/rand/v2"
	"testing"

	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/zclconf/go-cty/cty"
)

// distinctInstances says true exactly when every instance is known and each block's
// instances form one run of increasing count keys: checked against that definition on
// random lists, with blocks in and out of declaration order.
func TestDistinctInstances(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	blocks := make([]*Resource, 6)
	for i := range blocks {
		blocks[i] = &Resource{Addr: addrs.Resource{Kind: "hardware", Name: string(rune('a' + i))}, Spec: kinds["hardware"], Index: i}
	}
	single := &Resource{Addr: addrs.Resource{Kind: "hardware", Name: "s"}, Spec: kinds["hardware"], Index: 6}
	want := func(insts []*Instance) bool {
		seenRun := map[*Resource]bool{}
		for k, in := range insts {
			if in == nil {
				return false
			}
			if k > 0 && insts[k-1].Resource == in.Resource {
				if insts[k-1].Addr.Key.Type != addrs.IntKey || in.Addr.Key.Type != addrs.IntKey || insts[k-1].Addr.Key.Int >= in.Addr.Key.Int {
					return false
				}
				continue
			}
			if seenRun[in.Resource] {
				return false
			}
			seenRun[in.Resource] = true
		}
		return true
	}
	trues := 0
	for c := range 3000 {
		var insts []*Instance
		for range r.IntN(8) {
			switch b := r.IntN(len(blocks) + 2); {
			case b == len(blocks):
				insts = append(insts, NewInstance(single, addrs.Key{}, cty.NilVal))
			case b == len(blocks)+1 && c%5 == 0:
				insts = append(insts, nil)
			case b < len(blocks):
				from := r.IntN(3)
				for k := range 1 + r.IntN(3) {
					insts = append(insts, NewInstance(blocks[b], addrs.IntKeyOf(from+k*(1-r.IntN(2))), cty.NilVal))
				}
			}
		}
		if got, w := distinctInstances(insts), want(insts); got != w {
			t.Fatalf("case %d: distinctInstances = %v, want %v", c, got, w)
		}
		if want(insts) {
			trues++
		}
	}
	if trues < 300 {
		t.Errorf("only %d distinct lists: the cases do not test the increasing order", trues)
	}
}
