package planner

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/fabrica-iac/fabrica/schema"
)

// parallelFor calls fn once for every index, whatever the count and the runs it hands out.
func TestParallelForEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 31, 32, 33, 100, 1000, 4097, 100_000} {
		calls := make([]atomic.Int32, n)
		parallelFor(n, func(i int) { calls[i].Add(1) })
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Fatalf("n %d: fn(%d) called %d times", n, i, c)
			}
		}
	}
}

// parallelChunks hands out runs that cover every index once, none empty, none longer
// than maxRun.
func TestParallelChunksCoverOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 31, 32, 33, 100, 1000, 4097, 100_000} {
		calls := make([]atomic.Int32, n)
		parallelChunks(n, func(lo, hi int) {
			if lo >= hi || hi-lo > maxRun && runtime.GOMAXPROCS(0) > 1 {
				t.Errorf("n %d: run [%d, %d)", n, lo, hi)
			}
			for i := lo; i < hi; i++ {
				calls[i].Add(1)
			}
		})
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Fatalf("n %d: index %d covered %d times", n, i, c)
			}
		}
	}
}

// Recording a wave's instances beside its resources (as waves of splitRecording blocks
// and more are recorded) gives the same evaluation as recording them in one pass.
func TestSplitRecordingIsTheSame(t *testing.T) {
	paths, _ := filepath.Glob("../examples/superpod/*.fab.hcl")
	if len(paths) == 0 {
		t.Fatal("the superpod example was not found")
	}
	files := map[string][]byte{}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = src
	}
	evaluateWith := func(split int) *Evaluated {
		defer func(was int) { splitRecording = was }(splitRecording)
		splitRecording = split
		cfg, diags := schema.LoadSources(files)
		if diags.HasErrors() {
			t.Fatal(diags.Err())
		}
		ev, diags := Evaluate(cfg, InputVars{})
		if diags.HasErrors() {
			t.Fatal(diags.Err())
		}
		return ev
	}
	one, two := evaluateWith(1<<30), evaluateWith(1)
	addresses := func(ev *Evaluated) []string {
		var out []string
		for _, inst := range ev.Instances {
			out = append(out, inst.Address())
		}
		return out
	}
	if a, b := addresses(one), addresses(two); !slices.Equal(a, b) {
		t.Fatalf("instances differ:\none pass %v\nsplit    %v", a, b)
	}
	for _, inst := range two.Instances {
		if two.Instance(inst.Address()) != inst {
			t.Fatalf("%s is not found by its address", inst.Address())
		}
	}
	if len(one.byAddr) != len(two.byAddr) {
		t.Fatalf("instances indexed %d and %d", len(one.byAddr), len(two.byAddr))
	}
}
