package planner

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/fabrica-iac/fabrica/internal/hclsyntax"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// VarEnvPrefix prefixes environment variables that set input variables
// (FABRICA_VAR_region=eu sets var.region).
const VarEnvPrefix = "FABRICA_VAR_"

// InputVars are the sources of variable values, lowest precedence first: defaults, then
// Env, then each VarFile in order, then each Var ("name=value") in order.
type InputVars struct {
	Env      []string // "KEY=VALUE" entries, usually os.Environ()
	VarFiles []string
	Vars     []string
}

// rawValue is one value for a variable before it is converted to the variable's type.
type rawValue struct {
	expr hcl.Expression // from a var file or a non-string --var
	text string         // the raw text, for string-typed variables
	rng  hcl.Range
	from string
}

// ResolveVariables turns defaults and inputs into one value per declared variable, checks
// types and runs each variable's validation blocks.
func ResolveVariables(cfg *schema.Config, in InputVars) (map[string]cty.Value, diag.Diagnostics) {
	raw := map[string]rawValue{}
	diags := collectEnv(cfg, in.Env, raw)
	for _, f := range in.VarFiles {
		diags = diags.Append(collectVarFile(cfg, f, raw))
	}
	for _, kv := range in.Vars {
		diags = diags.Append(collectVarFlag(cfg, kv, raw))
	}
	if diags.HasErrors() {
		return nil, diags
	}
	names := make([]string, 0, len(cfg.Variables))
	for n := range cfg.Variables {
		names = append(names, n)
	}
	sort.Strings(names)
	values := make(map[string]cty.Value, len(names))
	for _, n := range names {
		v, d := variableValue(cfg.Variables[n], raw)
		diags = diags.Append(d)
		values[n] = v
	}
	if diags.HasErrors() {
		return values, diags
	}
	diags = diags.Append(validateVariables(cfg, values))
	return values, diags
}

func collectEnv(cfg *schema.Config, env []string, raw map[string]rawValue) diag.Diagnostics {
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, VarEnvPrefix) {
			continue
		}
		name := strings.TrimPrefix(k, VarEnvPrefix)
		if cfg.Variables[name] == nil {
			continue // like Terraform: stray environment variables are not an error
		}
		raw[name] = rawValue{text: v, from: "environment variable " + k}
	}
	return nil
}

func collectVarFile(cfg *schema.Config, path string, raw map[string]rawValue) diag.Diagnostics {
	src, err := os.ReadFile(path)
	if err != nil {
		return diag.Diagnostics{{Severity: diag.Error, Summary: "Cannot read variables file",
			Detail: fmt.Sprintf("%s. Check the path given to --var-file.", err)}}
	}
	f, hd := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	diags := diag.Diagnostics{}.Append(hd)
	if hd.HasErrors() {
		return diags
	}
	attrs, hd := f.Body.JustAttributes()
	diags = diags.Append(hd)
	for name, a := range attrs {
		if cfg.Variables[name] == nil {
			diags = diags.Append(diag.Errorf(a.NameRange, "Value for undeclared variable",
				"The file sets %q, but the configuration declares no variable of that name%s. Declare it with a variable block or remove the line.",
				name, didYouMean(name, variableNames(cfg))))
			continue
		}
		raw[name] = rawValue{expr: a.Expr, rng: a.Expr.Range(), from: path}
	}
	return diags
}

func collectVarFlag(cfg *schema.Config, kv string, raw map[string]rawValue) diag.Diagnostics {
	name, text, ok := strings.Cut(kv, "=")
	if !ok || name == "" {
		return diag.Diagnostics{{Severity: diag.Error, Summary: "Invalid --var option",
			Detail: fmt.Sprintf("The option %q is not of the form NAME=VALUE, for example --var region=eu-west.", kv)}}
	}
	v := cfg.Variables[name]
	if v == nil {
		return diag.Diagnostics{{Severity: diag.Error, Summary: "Value for undeclared variable",
			Detail: fmt.Sprintf("--var sets %q, but the configuration declares no variable of that name%s.", name, didYouMean(name, variableNames(cfg)))}}
	}
	raw[name] = rawValue{text: text, from: "--var " + name}
	return nil
}

// variableValue converts the chosen raw value, or the default, to the variable's type.
func variableValue(v *schema.Variable, raw map[string]rawValue) (cty.Value, diag.Diagnostics) {
	r, ok := raw[v.Name]
	if !ok {
		if v.Default == cty.NilVal {
			return cty.DynamicVal, diag.Diagnostics{diag.Errorf(v.DeclRange, "No value for required variable",
				"The variable %q has no default and no value was given. Set it with --var %s=VALUE, a --var-file, or the environment variable %s%s.",
				v.Name, v.Name, VarEnvPrefix, v.Name)}
		}
		return v.Default, nil
	}
	var val cty.Value
	switch {
	case r.expr != nil:
		var hd hcl.Diagnostics
		val, hd = r.expr.Value(nil)
		if hd.HasErrors() {
			return cty.DynamicVal, diag.Diagnostics{}.Append(hd)
		}
	case v.Type == cty.String || v.Type == cty.DynamicPseudoType && !looksLikeExpression(r.text):
		val = cty.StringVal(r.text)
	default:
		expr, hd := hclsyntax.ParseExpression([]byte(r.text), r.from, hcl.InitialPos)
		if hd.HasErrors() {
			return cty.DynamicVal, diag.Diagnostics{{Severity: diag.Error, Summary: "Invalid value for variable",
				Detail: fmt.Sprintf("The value of %q from %s is not a valid %s: %s.", v.Name, r.from, v.Type.FriendlyName(), hd[0].Summary)}}
		}
		val, hd = expr.Value(nil)
		if hd.HasErrors() {
			return cty.DynamicVal, diag.Diagnostics{{Severity: diag.Error, Summary: "Invalid value for variable",
				Detail: fmt.Sprintf("The value of %q from %s must be a constant: %s.", v.Name, r.from, hd[0].Detail)}}
		}
	}
	conv, err := convert.Convert(val, v.Type)
	if err != nil {
		d := diag.Diagnostic{Severity: diag.Error, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("The value of %q from %s is not valid for type %s: %s.", v.Name, r.from, v.Type.FriendlyName(), err)}
		if r.expr != nil {
			rng := r.rng
			d.Subject = &rng
		}
		return cty.DynamicVal, diag.Diagnostics{d}
	}
	return conv, nil
}

func looksLikeExpression(s string) bool {
	t := strings.TrimSpace(s)
	return strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{")
}

// validateVariables runs each variable's validation conditions with only var.NAME in scope.
func validateVariables(cfg *schema.Config, values map[string]cty.Value) diag.Diagnostics {
	var diags diag.Diagnostics
	for name, v := range cfg.Variables {
		if len(v.Validations) == 0 {
			continue
		}
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{name: values[name]})},
			Functions: functions,
		}
		for _, val := range v.Validations {
			if d := validationRefs(name, val); d.HasErrors() {
				diags = diags.Append(d)
				continue
			}
			diags = diags.Append(checkValidation(name, val, ctx))
		}
	}
	return diags
}

// validationRefs reports references a validation rule cannot use: it sees only the
// variable it validates.
func validationRefs(name string, val *schema.VariableValidation) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, e := range []hcl.Expression{val.Condition, val.ErrorMessage} {
		for _, t := range e.Variables() {
			if n, _ := attrStep(t, 1); t.RootName() == "var" && n == name {
				continue
			}
			diags = diags.Append(diag.Errorf(t.SourceRange(), "Invalid reference in variable validation",
				"The validation rules of var.%s may refer only to var.%s itself, so they can be checked before anything else is evaluated. Check other values where they are used.", name, name))
		}
	}
	return diags
}

func checkValidation(name string, val *schema.VariableValidation, ctx *hcl.EvalContext) diag.Diagnostics {
	cond, hd := val.Condition.Value(ctx)
	if hd.HasErrors() {
		return diag.Diagnostics{}.Append(hd)
	}
	if cond.IsNull() || cond.Type() != cty.Bool {
		return diag.Diagnostics{diag.Errorf(val.Condition.Range(), "Invalid validation condition",
			"The condition must be true or false; it gave %s.", cond.Type().FriendlyName())}
	}
	if cond.True() {
		return nil
	}
	msg := "The value of var." + name + " is not valid."
	if m, hd := val.ErrorMessage.Value(ctx); !hd.HasErrors() && m.Type() == cty.String && !m.IsNull() {
		msg = m.AsString()
	}
	return diag.Diagnostics{diag.Errorf(val.Condition.Range(), "Invalid value for variable",
		"%s\n\nThis was checked by the validation rule at %s for var.%s.", msg, val.DeclRange.String(), name)}
}

func variableNames(cfg *schema.Config) []string {
	out := make([]string, 0, len(cfg.Variables))
	for n := range cfg.Variables {
		out = append(out, n)
	}
	return out
}

func didYouMean(given string, names []string) string {
	if s := schema.Suggest(given, names); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}
