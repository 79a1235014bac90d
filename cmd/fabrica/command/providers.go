package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/local"
	"github.com/fabrica-iac/fabrica/providers/plugin"
	"github.com/fabrica-iac/fabrica/providers/sim"
	"github.com/fabrica-iac/fabrica/providers/slurm"
	"github.com/hashicorp/go-hclog"
)

// builtinProviders are compiled into fabrica and served through the same plugin
// boundary as external ones, by `fabrica provider serve NAME`.
var builtinProviders = map[string]func() providers.Provider{
	sim.Name:   sim.New,
	local.Name: local.New,
	slurm.Name: slurm.New,
}

// shutdownGrace is how long providers get to finish in-flight work after Stop.
const shutdownGrace = 10 * time.Second

// MaybeServe runs `fabrica provider serve NAME` when args ask for it. It must run before
// anything else writes to stdout, since the plugin handshake goes there.
func MaybeServe(args []string) (int, bool) {
	if len(args) != 3 || args[0] != "provider" {
		return 0, false
	}
	switch args[1] {
	case "supervise":
		// The local provider's detached job supervisor (see providers/local).
		return local.Supervise(args[2]), true
	case "serve":
	default:
		return 0, false
	}
	newProvider, ok := builtinProviders[args[2]]
	if !ok {
		fmt.Fprintf(os.Stderr, "Error: there is no built-in provider %q; built-in providers: %s\n", args[2], strings.Join(builtinNames(), ", "))
		return ExitError, true
	}
	// FABRICA_CPUPROFILE=FILE (see Main): a built-in provider writes FILE.NAME.
	if path := os.Getenv("FABRICA_CPUPROFILE"); path != "" {
		if f, err := os.Create(path + "." + args[2]); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	plugin.Serve(newProvider())
	return ExitOK, true
}

func builtinNames() []string {
	names := make([]string, 0, len(builtinProviders))
	for n := range builtinProviders {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// pluginSource launches providers as plugin processes: external executables found by
// plugin.Discover first, then the built-ins (this binary, `provider serve NAME`).
type pluginSource struct {
	logger   hclog.Logger
	external map[string]string

	mu      sync.Mutex
	clients []*plugin.Client
	closed  bool // a provider started after Close is ended at once
}

func newPluginSource(workDir string, env []string) (*pluginSource, error) {
	found, err := plugin.Discover(workDir, lookupEnv(env, "FABRICA_PLUGIN_PATH"))
	if err != nil {
		return nil, err
	}
	s := &pluginSource{logger: newLogger(env), external: map[string]string{}}
	for _, f := range found {
		s.external[f.Name] = f.Path
	}
	return s, nil
}

// Start launches the named provider.
func (s *pluginSource) Start(ctx context.Context, name string) (providers.Provider, error) {
	if s.isClosed() {
		return nil, errSourceClosed
	}
	var cmd *exec.Cmd
	if path, ok := s.external[name]; ok {
		cmd = exec.Command(path)
	} else if _, ok := builtinProviders[name]; ok {
		exe, err := selfExecutable()
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(exe, "provider", "serve", name)
	} else {
		return nil, fmt.Errorf("no provider named %q is installed (built-in: %s; external providers are executables named fabrica-provider-NAME in .fabrica/plugins/ or on $FABRICA_PLUGIN_PATH)",
			name, strings.Join(builtinNames(), ", "))
	}
	cmd.Env = os.Environ()
	dieWithParent(cmd)
	c, err := plugin.Launch(ctx, name, cmd, s.logger)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed { // a refresh started beside an evaluation that failed
		c.Kill()
		return nil, errSourceClosed
	}
	s.clients = append(s.clients, c)
	return c.Provider(), nil
}

var errSourceClosed = errors.New("the command is ending: no provider is started any more")

func (s *pluginSource) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close ends every provider: Stop, a grace period, then kill.
func (s *pluginSource) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range s.clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.Shutdown(shutdownGrace) }()
	}
	wg.Wait()
	s.clients, s.closed = nil, true
}

// Kill ends every provider at once (a second Ctrl-C).
func (s *pluginSource) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clients {
		c.Kill()
	}
	s.clients, s.closed = nil, true
}

// newLogger is fabrica's log: off unless FABRICA_LOG names a level (trace, debug, info,
// warn, error); it writes to stderr and carries the providers' logs too.
func newLogger(env []string) hclog.Logger {
	level := hclog.Off
	if v := lookupEnv(env, "FABRICA_LOG"); v != "" {
		level = hclog.LevelFromString(v)
		if level == hclog.NoLevel {
			level = hclog.Debug
		}
	}
	return hclog.New(&hclog.LoggerOptions{Name: "fabrica", Level: level, Output: os.Stderr})
}

func lookupEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// selfExecutable is the fabrica binary to run built-in providers from: the command as it
// was invoked (which may be a link that selects fabrica in a multi-call test binary),
// else the running executable.
func selfExecutable() (string, error) {
	if p, err := exec.LookPath(os.Args[0]); err == nil {
		return filepath.Abs(p)
	}
	return os.Executable()
}
