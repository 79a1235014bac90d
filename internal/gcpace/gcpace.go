// Package gcpace paces Go's garbage collector by the live heap, for the short runs of
// fabrica's commands. Go's default (GOGC=100) starts a collection whenever the heap has
// doubled since the last one, which for a command that builds a few hundred megabytes
// of configuration, plan and policy input means a dozen collections and 15 % of its CPU.
// While the live heap is small there is room for more garbage between collections:
// Start lets the heap grow to a budget (or to twice the live heap, Go's own bound, when
// that is more), so the memory a run peaks at is never more than max(budget, what
// GOGC=100 gives), and small and medium runs collect less often.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Default is the heap budget fabrica's commands run with; Large is plan's and apply's,
// which hold a configuration, its state, its plan and the plan's policy input at once
// (a plan of 100,000 instances then needs no collection after evaluating, and peaks
// at about 1.4 GiB, under the 2 GiB it may use).
const (
	Default = 768 << 20
	Large   = 1600 << 20
)

// MaxPercent bounds the GOGC Percent gives while the live heap is small. At 1600 a
// command's first collection after start-up comes when the heap is 17 times what was
// live then: validate of 100,000 blocks, whose heap is all live until it reaches the
// budget, no longer collects at 350 MB only to find 430 MB live (0.2 s of CPU, and its
// write barriers); plan then collects once. At 800 a heap could grow 9 times.
const MaxPercent = 1600

// Percent is the GOGC that lets a heap of live bytes grow to budget before the next
// collection: between 100 (Go's default) and MaxPercent.
func Percent(live, budget uint64) int {
	if live == 0 {
		return MaxPercent
	}
	p := int(100 * (float64(budget)/float64(live) - 1))
	return min(max(p, 100), MaxPercent)
}

// Start paces collections for a heap budget until the returned stop is called, which
// restores the previous setting. After every collection the pace is set again from the
// live heap then measured.
func Start(budget uint64) (stop func()) {
	pc := &pacer{budget: budget, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	pc.previous = debug.SetGCPercent(Percent(0, budget))
	pc.percent = Percent(0, budget)
	pc.arm()
	return pc.stop
}

type pacer struct {
	mu       sync.Mutex
	stopped  bool
	budget   uint64
	previous int
	percent  int
	sample   []metrics.Sample
}

// sentinel is garbage made to be collected: its finalizer runs after each collection.
// It is larger than 16 bytes, so it is not a tiny allocation (whose finalizer may
// never run).
type sentinel struct{ _ [32]byte }

func (pc *pacer) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) { pc.collected() })
}

func (pc *pacer) collected() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.stopped {
		return
	}
	metrics.Read(pc.sample)
	if pc.sample[0].Value.Kind() == metrics.KindUint64 {
		if p := Percent(pc.sample[0].Value.Uint64(), pc.budget); p != pc.percent {
			pc.percent = p
			debug.SetGCPercent(p)
		}
	}
	pc.arm()
}

func (pc *pacer) stop() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if !pc.stopped {
		pc.stopped = true
		debug.SetGCPercent(pc.previous)
	}
}
