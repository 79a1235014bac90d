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
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Default is the heap budget fabrica's commands run with; Large is plan's and apply's,
// which hold a configuration, its state, its plan and the plan's policy input at once
// (a plan of 100,000 instances then needs no collection after evaluating, and peaks
// at about 1.4 GiB, under the 2 GiB it may use). Validate is validate's: it holds only
// the evaluated configuration, about 700 MB at its peak for 100,000 blocks of one
// node each, under the 1 GiB it may use. With Default, the collection that began
// at about 640 MB (the pacer starts one before the heap reaches its goal) marked
// the whole heap at the end of the run for nothing: 0.1-0.3 s of the run's 1.4-1.8.
const (
	Default  = 768 << 20
	Validate = 896 << 20
	Large    = 1600 << 20
)

// MaxPercent bounds the GOGC Percent gives while the live heap is small, for a budget
// up to Default; a larger budget allows as many times more (Large: twice, 1600), up to
// four. Plan's first collection after start-up then comes at 17 times the heap live
// then, not 9: the one at about 330 MB that found 280 MB live is gone (0.1–0.2 s of
// CPU).
//
// Validate's budget has no bound: its heap is almost all the configuration, which
// stays live until the command ends, so a collection before the budget finds nearly
// everything live. For 100,000 nodes one at about 280 MB found 250 MB live; without it
// the run makes no collection at all and peaks 20-30 MB higher (about 740 MB), for
// 0.1-0.3 s less.
const MaxPercent = 800

// maxPercent is the bound on Percent for a budget (see MaxPercent).
func maxPercent(budget uint64) int {
	if budget == Validate {
		return unbounded
	}
	return MaxPercent * int(min(max(budget/Default, 1), 4))
}

// Percent is the GOGC that lets a heap of live bytes grow to budget before the next
// collection: between 100 (Go's default) and the budget's bound (see MaxPercent).
func Percent(live, budget uint64) int {
	if live == 0 {
		return maxPercent(budget)
	}
	p := int(min(100*(float64(budget)/float64(live)-1), float64(maxPercent(budget))))
	return max(p, 100)
}

// Start paces collections for a heap budget until the returned stop is called, which
// restores the previous setting. After every collection the pace is set again from the
// live heap then measured. For a budget without a bound (Validate's, see MaxPercent)
// the first collection comes when the process's memory nears the budget: until then
// Go's memory limit is the budget and GOGC is off.
func Start(budget uint64) (stop func()) {
	pc := &pacer{budget: budget, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	p := Percent(0, budget)
	if p == unbounded {
		pc.limited = true
		pc.previousLimit = debug.SetMemoryLimit(int64(min(budget, math.MaxInt64)))
		p = -1
	}
	pc.previous = debug.SetGCPercent(p)
	pc.percent = p
	pc.arm()
	return pc.stop
}

// unbounded is maxPercent for a budget without a bound.
const unbounded = math.MaxInt32

type pacer struct {
	mu       sync.Mutex
	stopped  bool
	budget   uint64
	previous int
	percent  int
	sample   []metrics.Sample
	// limited is set while the memory limit, not GOGC, starts collections;
	// previousLimit is the limit to restore.
	limited       bool
	previousLimit int64
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
	if pc.limited {
		pc.limited = false
		debug.SetMemoryLimit(pc.previousLimit)
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
		if pc.limited {
			debug.SetMemoryLimit(pc.previousLimit)
		}
	}
}
