package planner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// ProviderSource starts providers by name. The CLI launches them as plugins; tests pass
// in-process fakes. The planner owns this interface (the consumer owns the interface).
type ProviderSource interface {
	Start(ctx context.Context, name string) (providers.Provider, error)
}

// Providers starts and configures each provider once, on first use, with its provider
// block's configuration.
type Providers struct {
	source  ProviderSource
	configs map[string]json.RawMessage
	blocks  []*schema.Provider
	workDir string

	mu      sync.Mutex
	started map[string]providers.Provider
	failed  map[string]error
	// sensitive holds, per started provider, the attributes it declares secret per kind.
	sensitive map[string]map[string][]string
}

// NewProviders prepares providers for a configuration. configs holds each provider
// block's evaluated arguments (see Evaluated.ProviderConfigs); blocks are those blocks,
// on which a configuration a provider rejects is reported.
func NewProviders(source ProviderSource, configs map[string]json.RawMessage, blocks []*schema.Provider, workDir string) *Providers {
	return &Providers{source: source, configs: configs, blocks: blocks, workDir: workDir,
		started: map[string]providers.Provider{}, failed: map[string]error{}, sensitive: map[string]map[string][]string{}}
}

// DeclaredSensitive returns the attributes of kind that the provider declares secret,
// if it has been started (a plan that needs no provider call does not start it; the
// state then carries the names).
func (p *Providers) DeclaredSensitive(name, kind string) []string {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sensitive[name][kind]
}

// Configs returns the provider blocks' configurations.
func (p *Providers) Configs() map[string]json.RawMessage { return p.configs }

// Get returns the configured provider of that name.
func (p *Providers) Get(ctx context.Context, name string) (providers.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if prov, ok := p.started[name]; ok {
		return prov, nil
	}
	if err, ok := p.failed[name]; ok {
		return nil, err
	}
	prov, sensitive, err := p.start(ctx, name)
	if err != nil {
		p.failed[name] = err
		return nil, err
	}
	p.started[name], p.sensitive[name] = prov, sensitive
	return prov, nil
}

func (p *Providers) start(ctx context.Context, name string) (providers.Provider, map[string][]string, error) {
	prov, err := p.source.Start(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	info, err := prov.Info(ctx)
	if err != nil {
		return nil, nil, err
	}
	cfg := p.configs[name]
	if cfg == nil {
		cfg = json.RawMessage("{}")
	}
	resp := prov.Configure(ctx, providers.ConfigureRequest{Config: cfg, WorkDir: p.workDir})
	for _, d := range resp.Diagnostics {
		if d.Severity == providers.SeverityError {
			return nil, nil, &ConfigError{Provider: name, Diagnostic: d}
		}
	}
	return prov, info.Sensitive, nil
}

// ConfigError is a provider's refusal of its configuration.
type ConfigError struct {
	Provider   string
	Diagnostic providers.Diagnostic
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("provider %q rejected its configuration: %s: %s", e.Provider, e.Diagnostic.Summary, strings.TrimSuffix(e.Diagnostic.Detail, "."))
}

// startError is the diagnostic of a provider that could not be started for op. A
// configuration it rejected is placed on the argument at fault in its provider block
// (or on the block); without a block, the detail says where to configure it.
func (p *Providers) startError(name, op string, err error) diag.Diagnostic {
	var ce *ConfigError
	if !errors.As(err, &ce) {
		return providerError(name, op, err)
	}
	d := diag.Diagnostic{Severity: diag.Error, Summary: ce.Diagnostic.Summary,
		Detail: fmt.Sprintf("The %q provider rejected its configuration: %s", name, ce.Diagnostic.Detail)}
	b := p.block(name)
	if b == nil {
		d.Detail += fmt.Sprintf(" Configure it in a provider %q block.", name)
		return d
	}
	rng := b.DeclRange
	if attrs, _ := b.Config.JustAttributes(); attrs[ce.Diagnostic.Attribute] != nil {
		rng = attrs[ce.Diagnostic.Attribute].Expr.Range()
	}
	d.Subject = &rng
	return d
}

// block returns the provider block configuring name ("sim", or "sim.ALIAS"), if any.
func (p *Providers) block(name string) *schema.Provider {
	for _, b := range p.blocks {
		key := b.Name
		if b.Alias != "" {
			key += "." + b.Alias
		}
		if key == name {
			return b
		}
	}
	return nil
}

// ProviderConfigs evaluates every provider block's arguments (with variables and locals
// in scope) as JSON objects keyed by provider name.
func (e *Evaluated) ProviderConfigs() (map[string]json.RawMessage, diag.Diagnostics) {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": e.varObject, "local": cty.ObjectVal(e.Locals)}, Functions: functions}
	return providerConfigs(e.Config, ctx)
}

// StaticProviderConfigs returns the provider blocks' configurations, as ProviderConfigs
// does, when they are known before evaluating: when no provider block refers to
// anything (a variable, a local value). ok is false otherwise, or when a block has an
// error (evaluating reports it).
func StaticProviderConfigs(cfg *schema.Config) (configs map[string]json.RawMessage, ok bool) {
	for _, p := range cfg.Providers {
		attrs, hd := p.Config.JustAttributes()
		if hd.HasErrors() {
			return nil, false
		}
		for _, a := range attrs {
			if len(a.Expr.Variables()) > 0 {
				return nil, false
			}
		}
	}
	configs, diags := providerConfigs(cfg, &hcl.EvalContext{Functions: functions})
	if diags.HasErrors() {
		return nil, false
	}
	return configs, true
}

func providerConfigs(cfg *schema.Config, ctx *hcl.EvalContext) (map[string]json.RawMessage, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := map[string]json.RawMessage{}
	for _, p := range cfg.Providers {
		attrs, hd := p.Config.JustAttributes()
		diags = diags.Append(hd)
		m := map[string]cty.Value{}
		for name, a := range attrs {
			v, hd := a.Expr.Value(ctx)
			diags = diags.Append(hd)
			if !hd.HasErrors() {
				m[name] = v
			}
		}
		key := p.Name
		if p.Alias != "" {
			key += "." + p.Alias
		}
		out[key] = valueJSON(cty.ObjectVal(m))
	}
	return out, diags
}

// EvalSetting evaluates an expression of the fabrica settings block (policy bundles,
// params, waivers) with variables and locals in scope, as JSON.
func (e *Evaluated) EvalSetting(expr hcl.Expression) (json.RawMessage, diag.Diagnostics) {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": e.varObject, "local": cty.ObjectVal(e.Locals)}, Functions: functions}
	v, hd := expr.Value(ctx)
	if hd.HasErrors() {
		return nil, diag.Diagnostics{}.Append(hd)
	}
	return valueJSON(v), nil
}
