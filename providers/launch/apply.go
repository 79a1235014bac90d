package launch

import (
	"fmt"
	"sync"

	"github.com/fabrica-iac/fabrica/providers"
)

// ApplyConcurrently carries out each change with do on its own goroutine, so the
// caller's parallelism is how many changes it sends before their Done or Failed events.
// Each change gets a Started event, then what do sends (progress, logs) and the event do
// returns, all with the change's address.
func ApplyConcurrently(changes <-chan providers.Change, events chan<- providers.Event, do func(ch providers.Change, send func(providers.Event)) providers.Event) {
	var wg sync.WaitGroup
	for ch := range changes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send := func(e providers.Event) {
				e.Address = ch.Address
				events <- e
			}
			send(providers.Event{Type: providers.EventStarted})
			send(do(ch, send))
		}()
	}
	wg.Wait()
}

// Failed is the Failed event of a change, saying why.
func Failed(msg string) providers.Event {
	return providers.Event{Type: providers.EventFailed, Message: msg}
}

// FailedDiags is the Failed event of a change stopped by diagnostics; its message is the
// first error's, so that the apply output says why without the diagnostics.
func FailedDiags(diags []providers.Diagnostic) providers.Event {
	for _, d := range diags {
		if d.Severity == providers.SeverityError {
			return providers.Event{Type: providers.EventFailed, Message: d.Summary + ": " + d.Detail, Diagnostics: diags}
		}
	}
	return providers.Event{Type: providers.EventFailed, Message: "failed", Diagnostics: diags}
}

// DetachMessage is the message of a wait that ended early (Stop, or the end of its
// context) while the job goes on.
func DetachMessage(address string) string {
	return fmt.Sprintf("detached: the job keeps running; fabrica logs %s --follow to watch it", address)
}

// Stopper is a provider's Stop: once stopped, waits detach (the jobs keep running) and
// later creates fail. Stop may be called more than once, and from any goroutine.
type Stopper struct {
	once sync.Once
	c    chan struct{}
}

// NewStopper returns a Stopper not yet stopped.
func NewStopper() *Stopper { return &Stopper{c: make(chan struct{})} }

// Stop stops; later calls do nothing.
func (s *Stopper) Stop() { s.once.Do(func() { close(s.c) }) }

// Done is closed once stopped, for a wait to select on.
func (s *Stopper) Done() <-chan struct{} { return s.c }

// Stopped reports whether Stop was called.
func (s *Stopper) Stopped() bool {
	select {
	case <-s.c:
		return true
	default:
		return false
	}
}
