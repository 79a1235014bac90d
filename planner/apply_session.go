package planner

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fabrica-iac/fabrica/providers"
)

// session is one provider's Apply stream for the whole walk.
type session struct {
	provider string
	changes  chan providers.Change
	closed   bool
}

// providerEvent is an event from a provider's stream, or the stream's end.
type providerEvent struct {
	providers.Event
	provider   string
	sessionErr error
}

// session opens (once) the provider's Apply stream, forwarding its events to w.events.
func (w *walker) session(name string) (*session, error) {
	if s, ok := w.sessions[name]; ok {
		return s, nil
	}
	// The stream outlives Ctrl-C: in-flight changes finish (after Stop) and are recorded.
	streamCtx := context.WithoutCancel(w.ctx)
	prov, err := w.provs.Get(streamCtx, name)
	if err != nil {
		return nil, fmt.Errorf("provider %q is not available: %w", name, err)
	}
	s := &session{provider: name, changes: make(chan providers.Change, w.opts.Parallelism)}
	events := make(chan providers.Event, 256)
	go func() {
		for ev := range events {
			w.events <- providerEvent{Event: ev, provider: name}
		}
	}()
	go func() {
		err := prov.Apply(streamCtx, s.changes, events)
		close(events)
		if err == nil {
			err = errStreamEnded
		}
		w.events <- providerEvent{provider: name, sessionErr: err}
	}()
	w.sessions[name] = s
	return s, nil
}

var errStreamEnded = fmt.Errorf("its apply stream ended")

func (s *session) send(ch providers.Change) { s.changes <- ch }

// sessionFailed fails every in-flight change of a provider whose stream ended.
func (w *walker) sessionFailed(name string, err error) {
	s := w.sessions[name]
	if s != nil && s.closed && err == errStreamEnded {
		return // a normal end after we closed it
	}
	var lost []string
	for a, o := range w.inFlight {
		if o.rc.Provider == name {
			lost = append(lost, a)
		}
	}
	sort.Strings(lost)
	for _, a := range lost {
		o := w.inFlight[a]
		delete(w.inFlight, a)
		w.fail(o, fmt.Sprintf("provider %q failed while applying %s: %v", name, a, err))
	}
	if s != nil && len(lost) > 0 {
		w.diags[len(w.diags)-1].Detail += fmt.Sprintf(" (in flight when it failed: %s)", strings.Join(lost, ", "))
	}
	delete(w.sessions, name)
}

func (w *walker) closeSessions() {
	for _, s := range w.sessions {
		if !s.closed {
			s.closed = true
			close(s.changes)
		}
	}
}

// stopSessions asks every provider to end in-flight work quickly (Ctrl-C).
func (w *walker) stopSessions() {
	for name := range w.sessions {
		if prov, err := w.provs.Get(context.WithoutCancel(w.ctx), name); err == nil {
			go prov.Stop(context.WithoutCancel(w.ctx))
		}
	}
}
