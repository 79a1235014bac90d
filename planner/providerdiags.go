package planner

import (
	"fmt"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
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

func rangeJSON(r hcl.Range) *plans.Range {
	return &plans.Range{Filename: r.Filename,
		Start: plans.Pos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
		End:   plans.Pos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte}}
}
