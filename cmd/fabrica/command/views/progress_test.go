package views

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/providers"
)

// lockedBuffer is a bytes.Buffer the progress printer's timer may write to while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestProgressFlushesAQuietLine checks that a started change is printed soon even
// when no other event follows it, as in a long create.
func TestProgressFlushesAQuietLine(t *testing.T) {
	var out lockedBuffer
	p := NewProgress(&out)
	p.Event(planner.ProgressEvent{Type: planner.ProgressStarted, Address: "hardware.n[0]", Action: providers.ActionCreate})
	want := "hardware.n[0]: Creating...\n"
	for deadline := time.Now().Add(5 * time.Second); out.String() != want; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s, the progress output is %q, want %q", out.String(), want)
		}
	}
	p.Event(planner.ProgressEvent{Type: planner.ProgressFailed, Address: "hardware.n[0]", Action: providers.ActionCreate,
		Message: "burn-in failed", Elapsed: 1500 * time.Millisecond})
	if got := out.String(); !strings.HasSuffix(got, "hardware.n[0]: Creation failed after 1.5s: burn-in failed\n") {
		t.Errorf("a failure is not printed at once: output %q", got)
	}
}
