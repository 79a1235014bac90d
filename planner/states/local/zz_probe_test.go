package local

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states/statefile"
)

func TestZProbe(t *testing.T) {
	s := bigState(100000)
	dir := t.TempDir()
	for _, flush := range []bool{false, true, false, true} {
		p := filepath.Join(dir, "f")
		f, _ := os.Create(p)
		t0 := time.Now()
		var w io.Writer = f
		if flush {
			w = &flushingWriter{f: f}
		}
		statefile.Write(w, s)
		t1 := time.Now()
		f.Sync()
		t2 := time.Now()
		f.Close()
		t.Logf("flush %v: fill %v sync %v", flush, t1.Sub(t0), t2.Sub(t1))
		os.Remove(p)
	}
	t0 := time.Now()
	statefile.Write(io.Discard, s)
	t.Logf("encode only %v", time.Since(t0))
}
