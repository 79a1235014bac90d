package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
)

// Name is the provider's name in provider blocks and addresses.
const Name = "sim"

// Version is the provider's version.
const Version = "0.1.0"

// config is the provider block.
type config struct {
	latency     time.Duration // per operation
	failureRate float64       // probability that a change fails, 0..1
	seed        int64         // makes the failures deterministic
}

// provider implements providers.Provider over a world file.
type provider struct {
	mu       sync.Mutex // guards the fields below
	cfg      config
	dir      string // WORKDIR/.fabrica
	world    *world
	stamp    stamp // of the files world was loaded from or saved to
	applying int   // Apply calls holding the world lock

	stopOnce sync.Once
	stopped  chan struct{} // closed by Stop
}

// New returns an unconfigured sim provider.
func New() providers.Provider {
	return &provider{stopped: make(chan struct{})}
}

// Info describes the provider.
func (p *provider) Info(context.Context) (providers.InfoResponse, error) {
	return providers.InfoResponse{
		Name:    Name,
		Version: Version,
		Kinds:   kindNames(),
		Config: []providers.ConfigAttr{
			{Name: "latency", Type: "duration", Doc: `time each operation takes, e.g. "50ms" (default 0)`},
			{Name: "failure_rate", Type: "number", Doc: "probability from 0 to 1 that a change fails (default 0)"},
			{Name: "seed", Type: "number", Doc: "seed that makes the simulated failures reproducible (default 0)"},
		},
		Sensitive: sensitive,
	}, nil
}

// Configure reads the provider block and loads the world from WORKDIR/.fabrica. A
// journal left by a killed apply is folded into the world file when no other process
// holds the world.
func (p *provider) Configure(ctx context.Context, req providers.ConfigureRequest) providers.ConfigureResponse {
	cfg, diags := parseConfig(req.Config)
	if providers.HasErrors(diags) {
		return providers.ConfigureResponse{Diagnostics: diags}
	}
	dir := filepath.Join(req.WorkDir, ".fabrica")
	st := stampOf(dir)
	w, journaled, err := load(dir)
	if err != nil {
		return providers.ConfigureResponse{Diagnostics: append(diags, worldError(err))}
	}
	if journaled {
		if lk, err := lockWorld(ctx, dir, 0); err == nil {
			if w2, _, err := load(dir); err == nil { // reread under the lock
				w = w2
				if err := w.save(); err != nil {
					diags = append(diags, providers.Diagnostic{Severity: providers.SeverityWarning,
						Summary: "Cannot fold the sim journal", Detail: err.Error()})
				}
			}
			lk.Unlock()
			st = stampOf(dir)
		}
	}
	p.mu.Lock()
	p.cfg, p.dir, p.world, p.stamp = cfg, dir, w, st
	p.mu.Unlock()
	return providers.ConfigureResponse{Diagnostics: diags}
}

// worldError is the diagnostic for a world that cannot be read. The file is left as it
// is: the provider refuses to work rather than overwrite it.
func worldError(err error) providers.Diagnostic {
	return providers.Errorf("", "Cannot read the sim world",
		fmt.Sprintf("%v. The sim provider will not overwrite it: repair the file, or move it away to start from an empty world.", err))
}

// current returns the world, loading it again when another process changed its files
// since it was loaded (never while an apply of this provider holds them).
func (p *provider) current() (*world, []providers.Diagnostic) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.world == nil {
		return nil, []providers.Diagnostic{providers.Errorf("", "Provider not configured", "Configure must be called before any other method of the sim provider.")}
	}
	if p.applying > 0 {
		return p.world, nil
	}
	if st := stampOf(p.dir); !st.equal(p.stamp) {
		w, _, err := load(p.dir)
		if err != nil {
			return nil, []providers.Diagnostic{worldError(err)}
		}
		p.world, p.stamp = w, st
	}
	return p.world, nil
}

// Stop makes in-flight and later changes fail quickly with "stopped".
func (p *provider) Stop(context.Context) error {
	p.stopOnce.Do(func() { close(p.stopped) })
	return nil
}

// parseConfig checks the provider block: {latency, failure_rate, seed}.
func parseConfig(raw json.RawMessage) (config, []providers.Diagnostic) {
	var cfg config
	if len(raw) == 0 || string(raw) == "null" {
		return cfg, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return cfg, []providers.Diagnostic{providers.Errorf("", "Invalid provider configuration", "The sim provider block must be an object: "+err.Error())}
	}
	var diags []providers.Diagnostic
	for _, k := range sortedKeys(m) {
		v := m[k]
		if string(v) == "null" {
			continue
		}
		var d *providers.Diagnostic
		switch k {
		case "latency":
			cfg.latency, d = parseLatency(v)
		case "failure_rate":
			cfg.failureRate, d = parseFailureRate(v)
		case "seed":
			cfg.seed, d = parseSeed(v)
		default:
			e := providers.Errorf(k, "Unsupported argument",
				fmt.Sprintf("The sim provider has no argument %q; it accepts latency, failure_rate and seed.", k))
			d = &e
		}
		if d != nil {
			diags = append(diags, *d)
		}
	}
	return cfg, diags
}

func parseLatency(v json.RawMessage) (time.Duration, *providers.Diagnostic) {
	var s string
	err := json.Unmarshal(v, &s)
	var d time.Duration
	if err == nil {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < 0 {
		e := providers.Errorf("latency", "Invalid latency",
			fmt.Sprintf(`latency must be a duration such as "50ms" or "2s", not %s.`, v))
		return 0, &e
	}
	return d, nil
}

func parseFailureRate(v json.RawMessage) (float64, *providers.Diagnostic) {
	var f float64
	if err := json.Unmarshal(v, &f); err != nil || f < 0 || f > 1 || math.IsNaN(f) {
		e := providers.Errorf("failure_rate", "Invalid failure_rate",
			fmt.Sprintf("failure_rate must be a number from 0 to 1 (0.1 fails one change in ten), not %s.", v))
		return 0, &e
	}
	return f, nil
}

func parseSeed(v json.RawMessage) (int64, *providers.Diagnostic) {
	var n int64
	if err := json.Unmarshal(v, &n); err != nil {
		e := providers.Errorf("seed", "Invalid seed", fmt.Sprintf("seed must be a whole number, not %s.", v))
		return 0, &e
	}
	return n, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// unsupportedKind is the diagnostic for a kind the sim provider does not implement.
func unsupportedKind(kind string) providers.Diagnostic {
	detail := fmt.Sprintf("The sim provider implements %s; it has no %q.", strings.Join(kindNames(), ", "), kind)
	if kind == "training_job" {
		detail += " Training jobs run on a scheduler provider: set the cluster's scheduler to \"local\" or \"slurm\"."
	}
	return providers.Errorf("", "Unsupported resource kind", detail)
}
