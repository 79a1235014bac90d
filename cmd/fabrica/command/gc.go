package command

import (
	"os"
	"runtime/debug"
)

// loadGCPercent is the garbage collector's target while a configuration is loaded and
// evaluated. Those phases allocate several times their live heap in short-lived values
// (tokens, syntax nodes, cty values); collecting half as often takes 10–15 % off their
// time for about 20 % more memory at their peak, which stays well below the peak of the
// later phases of plan (docs/benchmarks.md). GOGC, when set, is left alone.
const loadGCPercent = 200

// relaxGC raises the GC target for a loading phase; the returned function restores it.
func relaxGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(loadGCPercent)
	return func() { debug.SetGCPercent(prev) }
}
