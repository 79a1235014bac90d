package local

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Name is the provider's name in provider blocks and a training_cluster's scheduler.
const Name = "local"

// Version is the provider's version.
const Version = "0.1.0"

// Kind is the only resource kind the provider implements.
const Kind = "training_job"

// masterAddr is the rendezvous host: every rank runs on this machine.
const masterAddr = "127.0.0.1"

// provider implements providers.Provider for training jobs run on this machine.
type provider struct {
	mu      sync.Mutex // guards the fields below
	workDir string     // absolute WORKDIR; "" until configured
	grace   time.Duration
	ports   map[int]time.Time // rendezvous ports handed out recently

	stop *launch.Stopper
}

// New returns an unconfigured local provider.
func New() providers.Provider {
	return &provider{stop: launch.NewStopper(), ports: map[int]time.Time{}}
}

// Info describes the provider.
func (p *provider) Info(context.Context) (providers.InfoResponse, error) {
	return providers.InfoResponse{
		Name: Name, Version: Version, Kinds: []string{Kind},
		Config: []providers.ConfigAttr{
			{Name: "kill_grace", Type: "duration", Doc: `time a job's processes get between SIGTERM and SIGKILL when they are stopped, e.g. "30s" (default 10s)`},
		},
	}, nil
}

// Configure reads the provider block ({kill_grace}) and keeps the working directory;
// jobs live in WORKDIR/.fabrica/jobs.
func (p *provider) Configure(_ context.Context, req providers.ConfigureRequest) providers.ConfigureResponse {
	grace, diags := parseConfig(req.Config)
	if providers.HasErrors(diags) {
		return providers.ConfigureResponse{Diagnostics: diags}
	}
	dir, err := filepath.Abs(req.WorkDir)
	if err != nil {
		return providers.ConfigureResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Invalid working directory", err.Error())}}
	}
	p.mu.Lock()
	p.workDir, p.grace = dir, grace
	p.mu.Unlock()
	return providers.ConfigureResponse{Diagnostics: diags}
}

// configured returns the working directory and kill grace, or a diagnostic.
func (p *provider) configured() (string, time.Duration, []providers.Diagnostic) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.workDir == "" {
		return "", 0, []providers.Diagnostic{providers.Errorf("", "Provider not configured", "Configure must be called before any other method of the local provider.")}
	}
	return p.workDir, p.grace, nil
}

// Stop makes waiting changes detach (the jobs keep running) and later creates fail.
func (p *provider) Stop(context.Context) error {
	p.stop.Stop()
	return nil
}

// takePort returns a free rendezvous port for a job, preferring preferred and avoiding
// those handed out in the last minute (their jobs may not have bound them yet).
func (p *provider) takePort(preferred int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for port, at := range p.ports {
		if time.Since(at) > time.Minute {
			delete(p.ports, port)
		}
	}
	port := freePort(masterAddr, preferred, func(n int) bool { _, ok := p.ports[n]; return ok })
	p.ports[port] = time.Now()
	return port
}

// parseConfig checks the provider block.
func parseConfig(raw json.RawMessage) (time.Duration, []providers.Diagnostic) {
	grace := defaultGrace
	keys, m, diags := launch.ConfigArgs(Name, raw)
	if diags != nil {
		return grace, diags
	}
	for _, k := range keys {
		v := m[k]
		if k != "kill_grace" {
			diags = append(diags, providers.Errorf(k, "Unsupported argument", fmt.Sprintf("The local provider has no argument %q; it accepts kill_grace.", k)))
			continue
		}
		var s string
		err := json.Unmarshal(v, &s)
		if err == nil {
			grace, err = time.ParseDuration(s)
		}
		if err != nil || grace <= 0 {
			grace = defaultGrace
			diags = append(diags, providers.Errorf(k, "Invalid kill_grace", fmt.Sprintf(`kill_grace must be a positive duration such as "10s", not %s.`, v)))
		}
	}
	return grace, diags
}

// unsupportedKind is the diagnostic for a kind the local provider does not implement.
func unsupportedKind(kind string) providers.Diagnostic {
	return providers.Errorf("", "Unsupported resource kind",
		fmt.Sprintf("The local provider runs training jobs (training_job) on this machine; it has no %q. Facilities, hardware, fabrics and storage belong to another provider (sim by default).", kind))
}
