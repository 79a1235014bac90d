package planner

import (
	"fmt"
	"github.com/hashicorp/hcl/v2"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
)

// providerError reports a provider that could not do an operation at all.
func providerError(name, op string, err error) diag.Diagnostic {
	return diag.Diagnostic{Severity: diag.Error, Summary: "Provider failed",
		Detail: fmt.Sprintf("The %q provider could not %s: %s.", name, op, err)}
}

// providerDiags converts a provider's diagnostics about an address (or none).
func providerDiags(name, address string, pds []providers.Diagnostic) diag.Diagnostics {
	var out diag.Diagnostics
	for _, pd := range pds {
		out = append(out, convertProviderDiag(name, address, pd))
	}
	return out
}

// batchDiags converts what a provider said about its batches as a whole. Asked in
// several batches, it says what concerns them all (not configured, crashed) in each:
// that is shown once. What one batch says twice is shown twice, as before batching.
func batchDiags(name string, batches [][]providers.Diagnostic) diag.Diagnostics {
	var out diag.Diagnostics
	seen := map[providers.Diagnostic]bool{}
	for _, pds := range batches {
		var fresh []providers.Diagnostic
		for _, pd := range pds {
			if !seen[pd] {
				fresh = append(fresh, pd)
			}
		}
		for _, pd := range pds {
			seen[pd] = true
		}
		out = append(out, providerDiags(name, "", fresh)...)
	}
	return out
}

func convertProviderDiag(name, address string, pd providers.Diagnostic) diag.Diagnostic {
	sev := diag.Error
	if pd.Severity == providers.SeverityWarning {
		sev = diag.Warning
	}
	detail := pd.Detail
	if address != "" {
		detail = fmt.Sprintf("%s (provider %q, %s)", detail, name, address)
	}
	return diag.Diagnostic{Severity: sev, Summary: pd.Summary, Detail: detail, Address: address}
}

// placeProviderDiags puts a provider's diagnostics about an instance on the attribute
// they name, or on the resource block.
func placeProviderDiags(ev *Evaluated, name string, d *Desired, pds []providers.Diagnostic) diag.Diagnostics {
	var out diag.Diagnostics
	for _, pd := range pds {
		dd := convertProviderDiag(name, d.Address, pd)
		rng := d.Instance.Resource.DeclRange
		if pd.Attribute != "" && d.Instance.Resource.Spec.Index(pd.Attribute) >= 0 {
			rng = d.Instance.Range(pd.Attribute)
		}
		dd.Subject = &rng
		out = append(out, dd)
	}
	return out
}

// attributeRanges returns the range of each argument a resource block sets (nested
// block arguments as "block.argument").
func attributeRanges(res *schema.Resource) map[string]*plans.Range {
	// The meta-arguments too: a finding may be about count.
	meta := [...]struct {
		name string
		expr hcl.Expression
		rng  *hcl.Range
	}{{"count", res.Count, nil}, {"for_each", res.ForEach, nil}, {"depends_on", nil, res.DependsOnRange}, {"provider", nil, res.ProviderRange}}
	n := len(res.Body.Args)
	for _, nb := range res.Body.Blocks {
		n += 1 + len(nb.Body.Args)
	}
	m := make(map[string]*plans.Range, n)
	for _, x := range meta {
		switch {
		case x.expr != nil:
			m[x.name] = diag.JSONRange(x.expr.Range())
		case x.rng != nil:
			m[x.name] = diag.JSONRange(*x.rng)
		}
	}
	for _, a := range res.Body.Args {
		m[res.Body.Spec.Attrs[a.Index].Name] = diag.JSONRange(a.Expr.Range())
	}
	for name, nb := range res.Body.Blocks {
		m[name] = diag.JSONRange(nb.DeclRange)
		for _, a := range nb.Body.Args {
			m[name+"."+nb.Body.Spec.Attrs[a.Index].Name] = diag.JSONRange(a.Expr.Range())
		}
	}
	return m
}

// declRange returns one shared plan range per resource block.
func (e *Evaluated) declRange(res *schema.Resource) *plans.Range {
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	if r, ok := e.declRanges[res]; ok {
		return r
	}
	if e.declRanges == nil {
		e.declRanges = map[*schema.Resource]*plans.Range{}
	}
	r := diag.JSONRange(res.DeclRange)
	e.declRanges[res] = r
	return r
}
