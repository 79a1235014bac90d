package planner

import (
	"slices"

	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/zclconf/go-cty/cty"
)

// BackendTypes are the state backends fabrica knows.
var BackendTypes = []string{"local", "pg"}

// checkSettings checks the fabrica block: the required version and the backend type.
// The backend and policy bodies are decoded by their own stages.
func checkSettings(cfg *schema.Config) diag.Diagnostics {
	s := cfg.Settings
	if s == nil {
		return nil
	}
	var diags diag.Diagnostics
	if s.RequiredVersion != nil {
		v, hd := s.RequiredVersion.Value(nil)
		diags = diags.Append(hd)
		switch {
		case hd.HasErrors():
		case v.IsNull() || v.Type() != cty.String:
			diags = diags.Append(diag.Errorf(s.RequiredVersion.Range(), "Invalid required_version",
				"required_version must be a literal string such as \">= 0.1\"."))
		default:
			ok, err := schema.CheckVersionConstraint(v.AsString(), schema.Version)
			if err != nil {
				diags = diags.Append(diag.Errorf(s.RequiredVersion.Range(), "Invalid required_version",
					"%s. Write constraints like \">= 0.1, < 2.0\" or \"~> 0.1\".", err))
			} else if !ok {
				diags = diags.Append(diag.Errorf(s.RequiredVersion.Range(), "Unsupported fabrica version",
					"This configuration requires fabrica %s, but this is fabrica %s. Install a matching release.", v.AsString(), schema.Version))
			}
		}
	}
	if b := s.Backend; b != nil && !slices.Contains(BackendTypes, b.Type) {
		diags = diags.Append(diag.Errorf(b.DeclRange, "Unknown backend type",
			"There is no backend %q%s. fabrica stores state with backend \"local\" (a file) or backend \"pg\" (PostgreSQL).",
			b.Type, didYouMean(b.Type, BackendTypes)))
	}
	return diags
}
