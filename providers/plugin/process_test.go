package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/fabrica-iac/fabrica/providers"
)

// TestMain lets the test binary serve the fake provider as a plugin process: the
// subprocess tests launch os.Args[0] with servePluginEnv set.
func TestMain(m *testing.M) {
	maybeServe()
	os.Exit(m.Run())
}

// logSink is an hclog output that keeps every JSON line and lets a test wait for one.
type logSink struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []map[string]any
	added chan struct{} // closed and replaced on every line
}

func newLogSink() *logSink { return &logSink{added: make(chan struct{})} }

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	for {
		line, err := s.buf.ReadBytes('\n')
		if err != nil {
			s.buf.Write(line) // incomplete: keep for the next write
			break
		}
		var m map[string]any
		if json.Unmarshal(line, &m) == nil {
			s.lines = append(s.lines, m)
		}
	}
	close(s.added)
	s.added = make(chan struct{})
	return len(p), nil
}

// waitFor waits for a line whose @message is msg and returns it.
func (s *logSink) waitFor(t *testing.T, msg string) map[string]any {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		for _, l := range s.lines {
			if l["@message"] == msg {
				s.mu.Unlock()
				return l
			}
		}
		added := s.added
		s.mu.Unlock()
		select {
		case <-added:
		case <-timeout:
			t.Fatalf("no log line %q reached the logger", msg)
		}
	}
}

// launchFake starts the test binary as the fake provider's plugin process.
func launchFake(t *testing.T, logger hclog.Logger) (*Client, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), servePluginEnv+"=1")
	c, err := Launch(t.Context(), "fake", cmd, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Kill)
	return c, cmd
}

func TestLaunch(t *testing.T) {
	sink := newLogSink()
	logger := hclog.New(&hclog.LoggerOptions{Name: "fabrica", Level: hclog.Debug, Output: sink, JSONFormat: true})
	c, _ := launchFake(t, logger)
	p := c.Provider()
	ctx := t.Context()

	info, err := p.Info(ctx)
	if err != nil || info.Name != "fake" {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	resp := p.Configure(ctx, providers.ConfigureRequest{Config: providers.Attrs(`{"print":"hello from stdout"}`), WorkDir: "/w"})
	if len(resp.Diagnostics) != 0 {
		t.Fatalf("Configure: %+v", resp.Diagnostics)
	}
	// The plugin's hclog line comes back at its level, with its fields and the provider's
	// name; what it printed on stdout comes back as a line of its own.
	line := sink.waitFor(t, "configured")
	if line["@level"] != "debug" || line["work_dir"] != "/w" || line["provider"] != "fake" {
		t.Errorf("plugin log line = %v, want debug level, work_dir and provider", line)
	}
	if line := sink.waitFor(t, "hello from stdout"); line["@level"] != "info" {
		t.Errorf("plugin stdout line = %v, want info level", line)
	}

	read := p.Read(ctx, providers.ReadRequest{Items: []providers.ReadItem{{Address: "a", Kind: "fake_thing", ID: "i-a"}}})
	if len(read.Results) != 1 || string(read.Results[0].Attrs) != string(actual("i-a")) {
		t.Errorf("Read = %+v", read)
	}
	got, err := applyAll(ctx, p, []providers.Change{{Address: "a", Kind: "fake_thing", Action: providers.ActionCreate, Planned: actual("a")}})
	if err != nil || len(got["a"]) != 3 || got["a"][2].Type != providers.EventDone {
		t.Errorf("Apply = %v, %v", got, err)
	}
}

// TestLaunch_logLevel: a plugin logs at its host logger's level, so lines below it are
// neither formatted in the plugin nor shown.
func TestLaunch_logLevel(t *testing.T) {
	sink := newLogSink()
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: sink, JSONFormat: true})
	c, _ := launchFake(t, logger)
	p := c.Provider()
	p.Configure(t.Context(), providers.ConfigureRequest{Config: providers.Attrs(`{"print":"marker"}`)})
	sink.waitFor(t, "marker")
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, l := range sink.lines {
		if l["@message"] == "configured" {
			t.Errorf("debug line %v reached an info logger", l)
		}
	}
}

// TestLaunch_killedMidApply kills the plugin process while a change is in flight: Apply
// fails with an error naming the provider and saying it exited, and so do later calls.
func TestLaunch_killedMidApply(t *testing.T) {
	c, cmd := launchFake(t, nil)
	p := c.Provider()
	errc := startSlowApply(t, p, "slow")
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	const want = `provider "fake" exited unexpectedly: signal: killed (during apply)`
	if err == nil || err.Error() != want {
		t.Errorf("Apply error = %v, want %s", err, want)
	}
	if _, err := p.Info(t.Context()); err == nil || !strings.HasPrefix(err.Error(), `provider "fake" exited unexpectedly: signal: killed`) {
		t.Errorf("Info after the crash: %v", err)
	}
	if !c.Exited() {
		t.Error("Exited() = false after the crash")
	}
}

// TestLaunch_panic: a provider that panics takes its process down; the error quotes the
// panic.
func TestLaunch_panic(t *testing.T) {
	c, _ := launchFake(t, nil)
	_, err := applyAll(t.Context(), c.Provider(), []providers.Change{{Address: "crash"}})
	const want = `provider "fake" exited unexpectedly: exit status 2: panic: fake provider crashed (during apply)`
	if err == nil || err.Error() != want {
		t.Errorf("Apply error = %v, want %s", err, want)
	}
}

// TestLaunch_shutdown: Shutdown stops the provider, lets the Apply in flight finish,
// then ends the process.
func TestLaunch_shutdown(t *testing.T) {
	c, _ := launchFake(t, nil)
	p := c.Provider()
	in := make(chan providers.Change, 1)
	out := make(chan providers.Event)
	in <- providers.Change{Address: "slow", Kind: "fake_slow", Action: providers.ActionCreate}
	errc := make(chan error, 1)
	go func() { errc <- p.Apply(t.Context(), in, out) }()
	<-out // started
	<-out // progress
	done := make(chan struct{})
	go func() {
		c.Shutdown(time.Minute)
		close(done)
	}()
	if e := <-out; e.Type != providers.EventFailed {
		t.Errorf("event after Shutdown = %+v, want failed", e)
	}
	close(in) // the planner's side: nothing more to apply
	if err := <-errc; err != nil {
		t.Errorf("Apply = %v, want nil", err)
	}
	<-done
	if !c.Exited() {
		t.Error("the process still runs after Shutdown")
	}
	if _, err := p.Info(context.Background()); err == nil || err.Error() != `provider "fake" was shut down (during info)` {
		t.Errorf("Info after Shutdown: %v", err)
	}
}

// startSlowApply starts an Apply of one slow change and returns once it has started.
func startSlowApply(t *testing.T, p providers.Provider, addr string) <-chan error {
	t.Helper()
	in := make(chan providers.Change, 1)
	out := make(chan providers.Event, 16)
	in <- providers.Change{Address: addr, Kind: "fake_slow", Action: providers.ActionCreate}
	errc := make(chan error, 1)
	go func() { errc <- p.Apply(t.Context(), in, out) }()
	if e := <-out; e.Type != providers.EventStarted {
		t.Fatalf("first event %+v, want started", e)
	}
	return errc
}

func TestLaunch_notAPlugin(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$") // without servePluginEnv: runs no test, prints PASS
	_, err := Launch(t.Context(), "fake", cmd, nil)
	if err == nil || !strings.HasPrefix(err.Error(), `provider "fake": starting plugin `) {
		t.Errorf("Launch error = %v", err)
	}
}

func TestFactory(t *testing.T) {
	newCmd := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), servePluginEnv+"=1")
		return cmd
	}
	p, closeFn, err := Factory("fake", newCmd, nil)(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info, err := p.Info(t.Context()); err != nil || info.Version != "1.2.3" {
		t.Errorf("Info = %+v, %v", info, err)
	}
	closeFn()
	if _, err := p.Info(t.Context()); err == nil || err.Error() != `provider "fake" was shut down (during info)` {
		t.Errorf("Info after close: %v", err)
	}
}
