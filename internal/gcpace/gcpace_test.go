package gcpace

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, budget uint64
		want         int
	}{
		{0, 768 * mib, 800},           // nothing live yet
		{10 * mib, 768 * mib, 800},    // small heaps: at most 800
		{0, 1600 * mib, 1600},         // twice the budget, twice the bound
		{40 * mib, 1600 * mib, 1600},  //
		{100 * mib, 1600 * mib, 1500}, // 1600/100 - 1 = 15
		{200 * mib, 1600 * mib, 700},  // 1600/200 - 1 = 7
		{192 * mib, 768 * mib, 300},   // grow to the budget: 768/192 - 1 = 3
		{256 * mib, 768 * mib, 200},   //
		{300 * mib, 768 * mib, 156},   // 1.56
		{384 * mib, 768 * mib, 100},   // the budget is twice the live heap: Go's default
		{600 * mib, 768 * mib, 100},   // never below Go's default
		{4096 * mib, 768 * mib, 100},  //
		{1 * mib, 1<<63 - 1, 3200},    // no overflow; the bound at most four times
		{1<<63 - 1, 768 * mib, 100},   //
		{0, Validate, unbounded},      // validate's: no bound
		{8 * mib, Validate, 11100},    // 896/8 - 1 = 111
		{448 * mib, Validate, 100},    //
	} {
		if got := Percent(c.live, c.budget); got != c.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", c.live, c.budget, got, c.want)
		}
	}
}

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// settle makes mib MiB live, and collects until GOGC is between lo and hi (or 10 s
// have passed): the pacer's finalizer runs on its own goroutine after a collection.
func settle(mib, lo, hi int) [][]byte {
	live := make([][]byte, 0, mib)
	for range mib {
		live = append(live, make([]byte, 1<<20))
	}
	deadline := time.Now().Add(10 * time.Second)
	for got := 0; (got < lo || got > hi) && time.Now().Before(deadline); got = gcPercent() {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	return live
}

// Start sets the pace from the live heap after each collection, and stop restores the
// setting it found.
func TestStartFollowsTheLiveHeap(t *testing.T) {
	before := debug.SetGCPercent(123)
	defer debug.SetGCPercent(before)
	const budget = 256 << 20
	stop := Start(budget)
	if got := gcPercent(); got != MaxPercent {
		t.Errorf("GOGC %d at the start, want %d", got, MaxPercent)
	}
	live := settle(96, 150, 175) // 96 MiB live: 256/96 - 1 = 1.67
	if got := gcPercent(); got < 150 || got > 175 {
		t.Errorf("GOGC %d with 96 MiB live and a 256 MiB budget, want about 166", got)
	}
	runtime.KeepAlive(live)
	stop()
	if got := gcPercent(); got != 123 {
		t.Errorf("GOGC %d after stop, want the 123 it was", got)
	}
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
	if got := gcPercent(); got != 123 {
		t.Errorf("GOGC %d after stop and a collection: the pacer is still running", got)
	}
}

func memoryLimit() int64 { return debug.SetMemoryLimit(-1) }

// For validate's budget the memory limit starts the first collection, with GOGC off;
// after it the pace follows the live heap and the limit is the one found, as it is
// after stop.
func TestStartValidateWaitsForTheBudget(t *testing.T) {
	before, beforeLimit := debug.SetGCPercent(123), debug.SetMemoryLimit(5<<30)
	defer debug.SetGCPercent(before)
	defer debug.SetMemoryLimit(beforeLimit)
	stop := Start(Validate)
	if got, limit := gcPercent(), memoryLimit(); got != -1 || limit != Validate {
		t.Errorf("GOGC %d and memory limit %d at the start, want off and %d", got, limit, Validate)
	}
	live := settle(64, 1200, 1400) // 64 MiB live: 896/64 - 1 = 13
	if got, limit := gcPercent(), memoryLimit(); got < 1200 || got > 1400 || limit != 5<<30 {
		t.Errorf("after a collection with 64 MiB live: GOGC %d and memory limit %d, want about 1300 and the %d found", got, limit, int64(5<<30))
	}
	runtime.KeepAlive(live)
	stop()
	if got, limit := gcPercent(), memoryLimit(); got != 123 || limit != 5<<30 {
		t.Errorf("after stop: GOGC %d and memory limit %d, want 123 and %d", got, limit, int64(5<<30))
	}

	// Stopped before any collection, it restores the limit too.
	stop = Start(Validate)
	stop()
	if got, limit := gcPercent(), memoryLimit(); got != 123 || limit != 5<<30 {
		t.Errorf("stopped at once: GOGC %d and memory limit %d, want 123 and %d", got, limit, int64(5<<30))
	}
}
