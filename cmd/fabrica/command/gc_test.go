package command

import (
	"runtime/debug"
	"testing"
)

func TestRelaxGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)

	t.Setenv("GOGC", "")
	restore := relaxGC()
	if got := debug.SetGCPercent(loadGCPercent); got != loadGCPercent {
		t.Errorf("while relaxed the GC percent is %d, want %d", got, loadGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after restore the GC percent is %d, want 100", got)
	}

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	restore = relaxGC()
	if got := debug.SetGCPercent(50); got != 50 {
		t.Errorf("with GOGC set the GC percent became %d, want it left at 50", got)
	}
	restore()
}
