package command

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/go-hclog"
)

// project is a configuration directory opened for a command: its configuration, its
// state backend and, once needed, its evaluation and providers.
type project struct {
	streams    *views.Streams
	dir        string
	cfg        *schema.Config
	ev         *planner.Evaluated
	backend    states.Backend
	workspaces states.Workspaces
	settings   *backendSettings
	source     *pluginSource
	provs      *planner.Providers

	log  hclog.Logger // FABRICA_LOG; at debug, each phase's wall time (see phase)
	mark time.Time
}

// phase logs, at debug level, how long the phase that just ended took: where a slow
// command spends its time, without a profiler.
func (p *project) phase(name string) {
	now := time.Now()
	if p.log != nil && p.log.IsDebug() {
		p.log.Debug("phase done", "phase", name, "took", now.Sub(p.mark).Round(time.Millisecond))
	}
	p.mark = now
}

// openProject loads the configuration and its backend (no evaluation yet).
func openProject(streams *views.Streams, g *globals) (*project, diag.Diagnostics) {
	return openProjectWith(streams, g, schema.LoadDir)
}

// openProjectSettings is openProject for a command that will not evaluate the
// configuration, such as applying a saved plan: only its settings are read (see
// schema.LoadSettings).
func openProjectSettings(streams *views.Streams, g *globals) (*project, diag.Diagnostics) {
	return openProjectWith(streams, g, schema.LoadSettings)
}

func openProjectWith(streams *views.Streams, g *globals, load func(string) (*schema.Config, diag.Diagnostics)) (*project, diag.Diagnostics) {
	p := &project{streams: streams, dir: g.dir, log: newLogger(environ(streams)), mark: time.Now()}
	cfg, diags := load(g.dir)
	p.cfg = cfg
	p.phase("load")
	if diags.HasErrors() {
		return p, diags
	}
	bs, d := readBackendSettings(cfg, g.dir, environ(streams), g.backendConfig)
	diags = diags.Append(d)
	if diags.HasErrors() {
		return p, diags
	}
	b, ws, err := bs.open(context.Background())
	if err != nil {
		return p, diags.Append(diag.Diagnostic{Severity: diag.Error, Summary: "Cannot open the state backend", Detail: err.Error()})
	}
	p.settings, p.backend, p.workspaces = bs, b, ws
	p.phase("open backend")
	return p, diags
}

// evaluate evaluates the configuration and prepares its providers.
func (p *project) evaluate(vars planner.InputVars) diag.Diagnostics {
	if p.cfg.SettingsOnly {
		panic("evaluating a configuration opened for its settings only")
	}
	ev, diags := planner.Evaluate(p.cfg, vars)
	p.ev = ev
	p.phase("evaluate")
	if diags.HasErrors() {
		return diags
	}
	configs, d := ev.ProviderConfigs()
	diags = diags.Append(d)
	if p.provs != nil { // prepared before evaluating, with these configurations
		return diags
	}
	return diags.Append(p.startProviders(configs))
}

// evaluateWithState evaluates the configuration while the state is read and, with
// refresh, refreshed when the providers' configurations are known without evaluating
// (startProvidersEarly): neither needs the other. The refresh, when started, is for
// planner.PlanOptions.Refreshed.
func (p *project) evaluateWithState(ctx context.Context, vars planner.InputVars, refresh bool) (*states.State, *planner.Refresh, diag.Diagnostics) {
	early := refresh && p.startProvidersEarly()
	type loaded struct {
		st      *states.State
		err     error
		refresh *planner.Refresh
	}
	state := make(chan loaded, 1)
	go func() {
		st, err := p.backend.Load(ctx)
		ld := loaded{st: st, err: err}
		if err == nil && early {
			ld.refresh = planner.StartRefresh(ctx, st, p.provs)
		}
		state <- ld
	}()
	diags := p.evaluate(vars)
	ld := <-state // before p.close, which closes the backend
	if diags.HasErrors() {
		return nil, nil, diags
	}
	if ld.err != nil {
		return nil, nil, diags.Append(stateError(ld.err))
	}
	p.phase("load state")
	return ld.st, ld.refresh, diags
}

// startProvidersEarly prepares the providers before evaluating when their blocks'
// configurations are known without it (planner.StaticProviderConfigs), so that their
// reads can start beside the evaluation. It reports whether it did.
func (p *project) startProvidersEarly() bool {
	configs, ok := planner.StaticProviderConfigs(p.cfg)
	return ok && p.startProviders(configs) == nil
}

// startProviders prepares the providers with their blocks' configurations.
func (p *project) startProviders(configs map[string]json.RawMessage) error {
	src, err := newPluginSource(p.dir, environ(p.streams))
	if err != nil {
		return err
	}
	p.source = src
	abs, _ := filepath.Abs(p.dir)
	p.provs = planner.NewProviders(src, configs, p.cfg.Providers, abs)
	return nil
}

// close ends the providers and the backend's connections.
func (p *project) close() {
	if p.source != nil {
		p.source.Close()
	}
	if c, ok := p.backend.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

// sources returns the configuration files' contents, for diagnostic snippets.
func (p *project) sources() map[string][]byte {
	if p == nil || p.cfg == nil {
		return nil
	}
	return p.cfg.Sources
}

// fabricaDir is where fabrica keeps its files in a configuration directory.
func fabricaDir(dir string) string { return filepath.Join(dir, ".fabrica") }

// lockState takes the state lock for a writing command, waiting up to timeout.
func lockState(ctx context.Context, b states.Backend, op string, timeout time.Duration) (func(), error) {
	lctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	id, err := b.Lock(lctx, states.NewLockInfo(op))
	if err != nil {
		return nil, err
	}
	return func() {
		if err := b.Unlock(context.WithoutCancel(ctx), id); err != nil {
			fmt.Fprintf(os.Stderr, "Warning: could not release the state lock %s: %s\n", id, err)
		}
	}, nil
}
