package command

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
)

// The first interrupt cancels the apply's context, the second kills the providers and
// ends the process. The providers' source is set by the apply while the handler may
// read it, on another goroutine: `go test -race` checks they share it safely.
func TestOnInterrupts(t *testing.T) {
	for _, storeFirst := range []bool{true, false} {
		var errOut syncBuffer
		sig := make(chan os.Signal, 2)
		exited := make(chan struct{})
		ctx, st := onInterrupts(context.Background(), &views.Streams{Err: &errOut}, sig, func() { close(exited) })
		src := &pluginSource{}
		var stored sync.WaitGroup
		if storeFirst {
			st.source.Store(src)
		} else {
			stored.Go(func() { st.source.Store(src) }) // as apply does once its providers exist
		}
		sig <- os.Interrupt
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the first interrupt did not cancel the context")
		}
		select {
		case <-exited:
			t.Fatal("the first interrupt ended the process")
		default:
		}
		sig <- os.Interrupt
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			t.Fatal("the second interrupt did not end the process")
		}
		stored.Wait()
		if out := errOut.String(); !strings.Contains(out, "Interrupt received") || !strings.Contains(out, "Aborting: providers killed") {
			t.Errorf("messages:\n%s", out)
		}
		if storeFirst {
			src.mu.Lock()
			closed := src.closed
			src.mu.Unlock()
			if !closed {
				t.Error("the providers were not killed")
			}
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
