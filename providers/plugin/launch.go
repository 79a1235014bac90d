package plugin

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/fabrica-iac/fabrica/providers"
)

// How long Launch waits for a plugin's handshake unless ctx says otherwise, and how long
// a failed call waits for the plugin process's exit to be noticed before blaming the
// connection instead.
const (
	defaultStartTimeout = time.Minute
	exitWait            = 2 * time.Second
)

// Client is a running provider plugin process.
type Client struct {
	name   string
	cmd    *exec.Cmd
	logger hclog.Logger
	pc     *goplugin.Client
	prov   *grpcClient
	stderr *stderrTail
	// killed is set once Kill starts, so the failures it causes are not called crashes.
	killed atomic.Bool
}

// Launch starts the provider plugin cmd (an unstarted command, e.g. an executable that
// Discover found, or `fabrica provider serve NAME`), completes the handshake and
// returns the running plugin; name is the provider's name, which every error names.
// ctx bounds the start only; the process lives until Kill or Shutdown, which the caller
// must call (defer client.Kill()).
//
// Everything the plugin logs reaches logger: its hclog lines at their own level, and
// lines it writes to stdout or stderr at Info (or at the level a "[WARN]"-style prefix
// names). The plugin logs at logger's level (see EnvLogLevel). A nil logger discards.
func Launch(ctx context.Context, name string, cmd *exec.Cmd, logger hclog.Logger) (*Client, error) {
	level := hclog.Off
	if logger == nil {
		logger = hclog.NewNullLogger()
	} else {
		level = logger.GetLevel()
	}
	if level >= hclog.Trace && level <= hclog.Off {
		cmd.Env = append(cmd.Env, EnvLogLevel+"="+level.String())
	}
	logger = logger.With("provider", name)
	startTimeout := defaultStartTimeout
	if deadline, ok := ctx.Deadline(); ok {
		startTimeout = time.Until(deadline)
	}
	c := &Client{name: name, cmd: cmd, logger: logger, stderr: &stderrTail{}}
	c.pc = goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          goplugin.PluginSet{PluginName: &GRPCProviderPlugin{Name: name}},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     startTimeout,
		Logger:           logger,
		Stderr:           &lineWriter{emit: c.stderr.add},
		SyncStdout:       &lineWriter{emit: logLine(logger.Named("stdout"))},
		SyncStderr:       &lineWriter{emit: logLine(logger.Named("stderr"))},
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(maxMsgSize), grpc.MaxCallSendMsgSize(maxMsgSize))},
	})

	type started struct {
		raw any
		err error
	}
	ch := make(chan started, 1)
	go func() {
		rpc, err := c.pc.Client()
		if err != nil {
			ch <- started{err: err}
			return
		}
		raw, err := rpc.Dispense(PluginName)
		ch <- started{raw, err}
	}()
	var s started
	select {
	case s = <-ch:
	case <-ctx.Done():
		go func() { <-ch; c.Kill() }()
		return nil, fmt.Errorf("provider %q: starting plugin %s: %w", name, cmd.Path, ctx.Err())
	}
	if s.err != nil {
		c.Kill()
		if detail := c.stderr.detail(); detail != "" {
			return nil, fmt.Errorf("provider %q: starting plugin %s: %w (%s)", name, cmd.Path, s.err, detail)
		}
		return nil, fmt.Errorf("provider %q: starting plugin %s: %w", name, cmd.Path, s.err)
	}
	c.prov = s.raw.(*grpcClient)
	c.prov.exited = c.exitError
	return c, nil
}

// Factory returns a providers.Factory that launches newCmd() as the plugin of the
// provider name, logging to logger; its close function kills the process.
func Factory(name string, newCmd func() *exec.Cmd, logger hclog.Logger) providers.Factory {
	return func(ctx context.Context) (providers.Provider, func(), error) {
		c, err := Launch(ctx, name, newCmd(), logger)
		if err != nil {
			return nil, nil, err
		}
		return c.Provider(), c.Kill, nil
	}
}

// Provider returns the provider the plugin serves.
func (c *Client) Provider() providers.Provider { return c.prov }

// Exited reports whether the plugin process has ended.
func (c *Client) Exited() bool { return c.pc.Exited() }

// Kill ends the plugin process now and waits for it to exit; calls in flight fail with
// an error saying the provider was shut down. It may be called more than once.
func (c *Client) Kill() {
	c.killed.Store(true)
	c.pc.Kill()
}

// Shutdown ends the plugin process gracefully: it calls Stop, so in-flight operations
// finish quickly, waits up to grace (all told) for the Apply calls in flight to return,
// then kills the process.
func (c *Client) Shutdown(grace time.Duration) {
	defer c.Kill()
	if c.pc.Exited() {
		return
	}
	deadline := time.Now().Add(grace)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := c.prov.Stop(ctx); err != nil {
		c.logger.Warn("stopping provider", "error", err)
	}
	if !c.prov.applies.wait(time.Until(deadline)) {
		c.logger.Warn("provider did not finish applying within the grace period; killing it", "grace", grace)
	}
}

// exitError says why the plugin process is gone, or returns nil if it still runs after
// exitWait. A call that failed on the transport asks, to tell a crash from a hiccup.
func (c *Client) exitError() error {
	deadline := time.Now().Add(exitWait)
	for !c.pc.Exited() && !c.killed.Load() {
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	if c.killed.Load() {
		return fmt.Errorf("provider %q was shut down", c.name)
	}
	// Exited is set after the process was waited for: ProcessState is there.
	detail := "exit status unknown"
	if ps := c.cmd.ProcessState; ps != nil {
		detail = ps.String()
	}
	if d := c.stderr.detail(); d != "" {
		detail += ": " + d
	}
	return fmt.Errorf("provider %q exited unexpectedly: %s", c.name, detail)
}

// lineWriter splits what is written to it into lines and hands each non-empty one to
// emit. go-plugin writes plugin output in arbitrary pieces.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(line string)
}

// maxLine bounds a line held back waiting for its end.
const maxLine = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimRight(string(w.buf[:i]), "\r"); line != "" {
			w.emit(line)
		}
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		w.emit(string(w.buf))
		w.buf = nil
	}
	return len(p), nil
}

// levelPrefixes are the prefixes that logLine reads a level from.
var levelPrefixes = []struct {
	prefix string
	level  hclog.Level
}{
	{"[TRACE]", hclog.Trace}, {"[DEBUG]", hclog.Debug}, {"[INFO]", hclog.Info},
	{"[WARN]", hclog.Warn}, {"[ERROR]", hclog.Error},
}

// logLine returns an emit function logging each line at Info, or at the level its
// "[LEVEL]" prefix names.
func logLine(l hclog.Logger) func(string) {
	return func(line string) {
		level := hclog.Info
		for _, p := range levelPrefixes {
			if rest, ok := strings.CutPrefix(line, p.prefix); ok {
				level, line = p.level, strings.TrimSpace(rest)
				break
			}
		}
		l.Log(level, line)
	}
}

// stderrTail remembers what a crash leaves on the plugin's raw stderr (its hclog lines
// go to the logger): the first panic line, else the last plain line.
type stderrTail struct {
	mu        sync.Mutex
	panicLine string
	lastLine  string
}

func (t *stderrTail) add(line string) {
	if strings.HasPrefix(line, "{") {
		return // an hclog JSON line
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.panicLine == "" && (strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")) {
		t.panicLine = line
	}
	t.lastLine = line
}

// detail is the line most likely to say why the plugin died, or "".
func (t *stderrTail) detail() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.panicLine != "" {
		return t.panicLine
	}
	return t.lastLine
}
