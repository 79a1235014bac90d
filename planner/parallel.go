package planner

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/zclconf/go-cty/cty"
)

// evalWave evaluates the locals and resources of one wave on every core, then records
// the results in order, so the outcome does not depend on scheduling.
func (e *Evaluated) evalWave(wave []int, g *graph) diag.Diagnostics {
	type result struct {
		local cty.Value
		res   resourceResult
		diags diag.Diagnostics
	}
	results := make([]result, len(wave))
	one := func(i int) {
		v := wave[i]
		if g.isLocal(v) {
			results[i].local, results[i].diags = e.evalLocal(g.Vertex(v).name, g.refs[v])
			return
		}
		results[i].res = e.evalResource(e.Config.Resources[v], g.refs[v])
	}
	parallelFor(len(wave), one)
	// The instances' index and list are filled beside the resources' maps: for a wave
	// of 100,000 blocks of one instance, 100 ms on one core became about 55 on two.
	addInstances := func() {
		for i, v := range wave {
			if !g.isLocal(v) {
				e.addInstances(results[i].res)
			}
		}
	}
	var wg sync.WaitGroup
	if len(wave) >= splitRecording {
		wg.Go(addInstances)
	} else {
		addInstances()
	}
	var diags diag.Diagnostics
	for i, v := range wave {
		if g.isLocal(v) {
			e.Locals[g.Vertex(v).name] = results[i].local
			diags = diags.Append(results[i].diags)
			continue
		}
		e.addResource(results[i].res)
		diags = diags.Append(results[i].res.diags)
	}
	wg.Wait()
	return diags
}

// splitRecording is the wave size from which evalWave records instances and resources
// on two goroutines (a test lowers it, to compare with recording in one pass).
var splitRecording = 4096

// parallelFor calls fn(0..n-1) on GOMAXPROCS goroutines (see parallelChunks).
func parallelFor(n int, fn func(i int)) {
	parallelChunks(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			fn(i)
		}
	})
}

// parallelChunks calls fn(lo, hi) for short contiguous runs covering 0..n-1, on
// GOMAXPROCS goroutines, each taking the next run as it finishes one: the items of a
// list are seldom alike (the fabrics and clusters that name thousands of servers come
// after the servers, so with one half each, one goroutine held most of the work).
func parallelChunks(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	run := max(1, min(maxRun, n/(16*workers)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(int64(run))) - run
				if lo >= n {
					return
				}
				fn(lo, min(lo+run, n))
			}
		})
	}
	wg.Wait()
}

// maxRun is the longest run parallelChunks hands out: short enough that the last runs,
// which hold the largest items, spread over the cores.
const maxRun = 16

// Provider calls carry at most providerBatch items, providerBatchesInFlight at a time.
// A call crosses a process boundary: fabrica encodes the items, the plugin decodes
// them, works, and encodes its answers, which fabrica decodes. With the 100,000
// servers of a large plan in one call each side waits for the other; in batches of
// 8,192 those steps overlap, and the plugin works on two batches at once. Each batch
// reads the world as it is then: what changes it between batches (another apply, a
// `sim drift`) may show in some instances' answers and not others', as it would for a
// provider whose reads are live.
const (
	providerBatch           = 8192
	providerBatchesInFlight = 2
)

// askInBatches asks a provider about n items in batches (inBatches) and returns its
// answers in order, with what it said about the batches as a whole (batchDiags).
func askInBatches[R any](name string, n int, ask func(lo, hi int) R, said func(R) []providers.Diagnostic) ([]R, diag.Diagnostics) {
	resps := make([]R, batchCount(n))
	inBatches(n, func(b, lo, hi int) { resps[b] = ask(lo, hi) })
	pds := make([][]providers.Diagnostic, len(resps))
	for b, resp := range resps {
		pds[b] = said(resp)
	}
	return resps, batchDiags(name, pds)
}

// inBatches calls fn for consecutive batches [lo, hi) of n items (one, empty, for no
// items), at most providerBatchesInFlight at once, and returns when every call has
// returned.
func inBatches(n int, fn func(batch, lo, hi int)) {
	batches := batchCount(n)
	if batches == 1 {
		fn(0, 0, n)
		return
	}
	slots := make(chan struct{}, providerBatchesInFlight)
	var wg sync.WaitGroup
	for b := range batches {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			fn(b, b*providerBatch, min((b+1)*providerBatch, n))
		})
	}
	wg.Wait()
}

// batchCount is the number of batches inBatches makes of n items.
func batchCount(n int) int {
	return max(1, (n+providerBatch-1)/providerBatch)
}
