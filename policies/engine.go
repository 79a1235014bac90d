package policies

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/fabrica-iac/fabrica/schema/diag"
)

// Options configures an Engine. The CLI fills it from `fabrica { policy { ... } }`.
type Options struct {
	// Bundles lists the policy bundles: "builtin" (the bundled policies) or a
	// directory of .rego files (relative to BaseDir). Empty means ["builtin"]; a list
	// without "builtin" leaves the bundled policies out.
	Bundles []string
	// Params sets policy parameters (data.params), over the defaults the bundles
	// declare in their params.json. Values must be JSON values (float64, int,
	// json.Number, string, bool, []any, map[string]any); an object merges key by key
	// into an object default.
	Params map[string]any
	// ParamRanges optionally locates each parameter in the configuration, ParamsRange
	// the params attribute and BundlesRange the bundles attribute, for diagnostics.
	ParamRanges  map[string]*Range
	ParamsRange  *Range
	BundlesRange *Range
	// Waivers accept findings until they expire; see Waiver.
	Waivers []Waiver
	// Now is the time of the check (time.now_ns() in Rego, waiver expiry); default
	// time.Now. Tests set it for deterministic results.
	Now func() time.Time
	// BaseDir resolves relative bundle directories, and the file names of findings and
	// waiver ranges are made relative to it (forward slashes), as SARIF and GitHub
	// annotations expect: use the repository root.
	BaseDir string
}

// Engine checks plans against compiled policies. It is safe for concurrent use.
type Engine struct {
	compiler *ast.Compiler
	store    storage.Store
	query    rego.PreparedEvalQuery
	rules    []RuleInfo
	refs     map[string]ast.Ref
	params   map[string]any
	waivers  []Waiver
	now      func() time.Time
	baseDir  string
	// functions implement the intrinsics the compiled modules call (useIntrinsics).
	functions []func(*rego.Rego)
	// readsHardware is set when a rule may read hardware changes, which CheckPlan
	// otherwise leaves out of the input (see readsHardwareChanges).
	readsHardware bool
}

// regoOptions are the options of a query of the compiled policies.
func (e *Engine) regoOptions(query func(*rego.Rego)) []func(*rego.Rego) {
	return append([]func(*rego.Rego){rego.Compiler(e.compiler), rego.Store(e.store), rego.StrictBuiltinErrors(true), query}, e.functions...)
}

// enginePackage is the generated module that gathers every rule's result in one
// evaluation, so helpers such as data.fabrica.lib.changes are computed once per check.
const enginePackage = "fabrica_engine_internal"

// enginePath is the path of enginePackage, which no policy may declare.
var enginePath = ast.MustParseRef("data." + enginePackage)

// unsafeBuiltins are refused in policies: a plan check must not reach the network.
var unsafeBuiltins = map[string]struct{}{"http.send": {}, "net.lookup_ip_addr": {}, "opa.runtime": {}}

// ruleSeverity returns the severity of a rule name (deny, violation or warn, optionally
// with a _suffix, as conftest), or "" when the rule is not a policy rule.
func ruleSeverity(name string) Severity {
	base, _, _ := strings.Cut(name, "_")
	switch base {
	case "deny", "violation":
		return Deny
	case "warn":
		return Warn
	}
	return ""
}

// Load reads and compiles the bundles once, validates parameters and waivers, and
// prepares the evaluation. Rego syntax and compile errors come back as diagnostics at
// the .rego file and line; so do unknown parameters and invalid waivers.
func Load(ctx context.Context, opts Options) (*Engine, diag.Diagnostics) {
	var diags diag.Diagnostics
	bundleNames := opts.Bundles
	if len(bundleNames) == 0 {
		bundleNames = []string{BuiltinBundle}
	}
	ps := &paramSet{defaults: map[string]any{}, origin: map[string]string{}}
	var bundles []*bundleFiles
	for _, name := range bundleNames {
		b, err := readBundle(name, opts.BaseDir, false)
		if err != nil {
			diags = diags.Append(errorDiag("Invalid policy bundle", err.Error(), opts.BundlesRange))
			continue
		}
		if len(b.rego) == 0 {
			diags = diags.Append(diag.Diagnostic{Severity: diag.Warning, Summary: "Empty policy bundle",
				Detail: fmt.Sprintf("Policy bundle %q has no .rego files.", name)})
		}
		if b.params != nil {
			if err := ps.declare(name, b.paramsPath, b.params); err != nil {
				diags = diags.Append(errorDiag("Invalid policy parameters", err.Error(), nil))
			}
		}
		bundles = append(bundles, b)
	}
	modules, perrs := parseBundles(bundles)
	diags = diags.Append(regoDiags(perrs))
	params, errs := ps.merge(opts.Params)
	for _, err := range errs {
		rng := opts.ParamsRange
		if e, ok := err.(*UnknownParamError); ok && opts.ParamRanges[e.Name] != nil {
			rng = opts.ParamRanges[e.Name]
		}
		diags = diags.Append(errorDiag("Invalid policy parameter", err.Error(), rng))
	}
	if diags.HasErrors() {
		return nil, diags
	}
	e := &Engine{params: params, waivers: slices.Clone(opts.Waivers), now: opts.Now, baseDir: opts.BaseDir}
	if e.now == nil {
		e.now = time.Now
	}
	if e.baseDir != "" {
		if abs, err := filepath.Abs(e.baseDir); err == nil {
			e.baseDir = abs
		}
	}
	for i := range e.waivers {
		if r := e.waivers[i].Range; r != nil {
			rel := *r
			rel.Filename = e.relative(r.Filename)
			e.waivers[i].Range = &rel
		}
	}
	diags = diags.Append(e.compile(ctx, modules))
	if diags.HasErrors() {
		return nil, diags
	}
	diags = diags.Append(e.checkWaivers())
	if diags.HasErrors() {
		return nil, diags
	}
	return e, diags
}

// compile finds the policy rules, compiles every module with the generated gathering
// module, and prepares the query.
func (e *Engine) compile(ctx context.Context, modules map[string]*ast.Module) diag.Diagnostics {
	var diags diag.Diagnostics
	e.refs = map[string]ast.Ref{}
	infos := map[string]*RuleInfo{}
	warned := map[string]bool{}
	for _, file := range slices.Sorted(maps.Keys(modules)) {
		m := modules[file]
		if m.Package.Path.HasPrefix(enginePath) {
			diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Summary: "Reserved policy package",
				Detail:  fmt.Sprintf("%s declares package %s, which fabrica keeps for the query that gathers the rules' results. Rename the package, e.g. package fabrica.custom.<name>.", file, strings.TrimPrefix(m.Package.Path.String(), "data.")),
				Subject: locRange(m.Package.Location)})
			continue
		}
		pkg, inFabrica := packageID(m.Package.Path)
		for _, r := range m.Rules {
			name := r.Head.Ref()[0].Value.String()
			sev := ruleSeverity(name)
			if sev == "" || len(r.Head.Args) > 0 {
				continue
			}
			if !inFabrica {
				key := m.Package.Path.String()
				if !warned[key] {
					warned[key] = true
					diags = diags.Append(diag.Diagnostic{Severity: diag.Warning, Summary: "Policy outside the fabrica namespace",
						Detail:  fmt.Sprintf("%s defines %s, but its package %s is not under fabrica.<area>.<name>, so fabrica does not run it. Rename the package, e.g. package fabrica.custom.%s.", file, name, strings.TrimPrefix(key, "data."), name),
						Subject: locRange(r.Location)})
				}
				continue
			}
			id := pkg + "." + name
			if _, ok := infos[id]; !ok {
				infos[id] = &RuleInfo{ID: id, Package: pkg, Severity: sev, File: file, Line: r.Location.Row}
				e.refs[id] = m.Package.Path.Append(ast.StringTerm(name))
			}
		}
	}
	if diags.HasErrors() {
		return diags
	}
	var gather strings.Builder
	fmt.Fprintf(&gather, "package %s\n\n", enginePackage)
	for _, id := range slices.Sorted(maps.Keys(e.refs)) {
		fmt.Fprintf(&gather, "results[%q] := x if x := %s\n\n", id, e.refs[id])
	}
	gm, err := ast.ParseModuleWithOpts("engine.rego", gather.String(), parserOptions)
	if err != nil {
		return diags.Append(fmt.Errorf("internal error: the generated module does not parse: %v", err))
	}
	all := maps.Clone(modules)
	all["engine.rego"] = gm
	e.compiler = ast.NewCompiler().WithUnsafeBuiltins(unsafeBuiltins)
	if useIntrinsics(all) {
		e.compiler.WithBuiltins(map[string]*ast.Builtin{notKindBuiltin.Name: {Name: notKindBuiltin.Name, Decl: notKindBuiltin.Decl}})
		e.functions = append(e.functions, rego.Function2(notKindBuiltin, notKind))
	}
	if e.compiler.Compile(all); e.compiler.Failed() {
		return diags.Append(regoDiags(e.compiler.Errors))
	}
	annotations := e.compiler.GetAnnotationSet()
	for _, file := range slices.Sorted(maps.Keys(modules)) {
		for _, r := range modules[file].Rules {
			info := infos[ruleKey(modules[file], r)]
			if info == nil || info.File != file || info.Title != "" {
				continue
			}
			for _, ar := range annotations.Chain(r) {
				a := ar.Annotations
				if a == nil {
					continue
				}
				info.Title = cmpOr(info.Title, a.Title)
				info.Description = cmpOr(info.Description, unwrap(a.Description))
				if info.URL == "" && len(a.RelatedResources) > 0 && a.RelatedResources[0].Ref.String() != "" {
					info.URL = a.RelatedResources[0].Ref.String()
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(infos)) {
		e.rules = append(e.rules, *infos[id])
	}
	data, _ := json.Marshal(map[string]any{"params": e.params})
	e.store = inmem.NewFromReaderWithOpts(bytes.NewReader(data), inmem.OptRoundTripOnWrite(false))
	query := ast.MustParseRef("data." + enginePackage + ".results")
	e.readsHardware = readsHardwareChanges(e.compiler, query)
	pq, err := rego.New(e.regoOptions(rego.Query(query.String()))...).PrepareForEval(ctx)
	if err != nil {
		return diags.Append(fmt.Errorf("preparing the policy query: %w", err))
	}
	e.query = pq
	return diags
}

// unwrap joins the hard-wrapped lines of each paragraph of a METADATA description.
func unwrap(s string) string {
	paras := strings.Split(strings.TrimSpace(s), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paras, "\n\n")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ruleKey returns the rule id of a policy rule, or "".
func ruleKey(m *ast.Module, r *ast.Rule) string {
	pkg, ok := packageID(m.Package.Path)
	if !ok {
		return ""
	}
	return pkg + "." + r.Head.Ref()[0].Value.String()
}

// packageID turns data.fabrica.energy.pue into "energy.pue"; ok is false outside
// fabrica.<...>.
func packageID(path ast.Ref) (string, bool) {
	var parts []string
	for _, t := range path[1:] {
		s, ok := t.Value.(ast.String)
		if !ok {
			return "", false
		}
		parts = append(parts, string(s))
	}
	if len(parts) < 2 || parts[0] != "fabrica" {
		return "", false
	}
	return strings.Join(parts[1:], "."), true
}

// checkWaivers validates the waivers against the loaded rules.
func (e *Engine) checkWaivers() diag.Diagnostics {
	var diags diag.Diagnostics
	for _, w := range e.waivers {
		var problems []string
		if strings.TrimSpace(w.Reason) == "" {
			problems = append(problems, "It has no reason: say why the finding is accepted (reason = \"...\").")
		}
		if w.Expires.IsZero() {
			problems = append(problems, "It has no expiry: every waiver ends (expires = \"YYYY-MM-DD\").")
		}
		if !slices.ContainsFunc(e.rules, func(r RuleInfo) bool { return w.MatchesRule(r.ID) }) {
			problems = append(problems, fmt.Sprintf("No loaded policy rule is %q or under it. %s", w.Rule, e.suggestRule(w.Rule)))
		}
		if len(problems) > 0 {
			diags = diags.Append(errorDiag("Invalid policy waiver",
				fmt.Sprintf("The waiver %q is invalid. %s", w.Rule, strings.Join(problems, " ")), w.Range))
		}
	}
	return diags
}

func (e *Engine) suggestRule(name string) string {
	names := map[string]bool{}
	for _, r := range e.rules {
		names[r.ID], names[r.Package] = true, true
	}
	best, suggestion := 4, ""
	for _, n := range slices.Sorted(maps.Keys(names)) {
		if d := levenshtein.Distance(name, n, nil); d < best {
			best, suggestion = d, n
		}
	}
	if suggestion != "" {
		return fmt.Sprintf("Did you mean %q?", suggestion)
	}
	pkgs := map[string]bool{}
	for _, r := range e.rules {
		pkgs[r.Package] = true
	}
	return "A waiver names a rule id (such as " + exampleID(e.rules) + "), its package or its area; the packages are: " +
		strings.Join(slices.Sorted(maps.Keys(pkgs)), ", ") + "."
}

func exampleID(rules []RuleInfo) string {
	if len(rules) == 0 {
		return "energy.pue.deny"
	}
	return rules[0].ID
}

// Rules returns the metadata of every loaded policy rule, sorted by id.
func (e *Engine) Rules() []RuleInfo { return slices.Clone(e.rules) }

// Params returns the effective parameters: the bundles' defaults with Options.Params
// laid over them.
func (e *Engine) Params() map[string]any { return maps.Clone(e.params) }

// DefaultParams returns the bundled policies' parameters with their defaults.
func DefaultParams() map[string]any {
	ps := &paramSet{defaults: map[string]any{}, origin: map[string]string{}}
	b, err := readBundle(BuiltinBundle, "", false)
	if err != nil || ps.declare(BuiltinBundle, b.paramsPath, b.params) != nil {
		panic("the embedded params.json is invalid") // guarded by tests
	}
	return ps.defaults
}

// errorDiag builds an error diagnostic at an optional range.
func errorDiag(summary, detail string, rng *Range) diag.Diagnostic {
	return diag.Diagnostic{Severity: diag.Error, Summary: summary, Detail: detail, Subject: rng.HCL()}
}

// regoDiags turns Rego parse and compile errors into diagnostics at the .rego file.
func regoDiags(errs ast.Errors) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, err := range errs {
		summary := "Rego compile error"
		switch err.Code {
		case ast.ParseErr:
			summary = "Rego syntax error"
		case ast.TypeErr:
			summary = "Rego type error"
		}
		detail := err.Message
		if err.Details != nil {
			for _, l := range err.Details.Lines() {
				detail += "\n\t" + strings.TrimSpace(l)
			}
		}
		if err.Location != nil && err.Location.File != "" {
			detail = fmt.Sprintf("%s:%d: %s", err.Location.File, err.Location.Row, err.Message)
		}
		diags = diags.Append(diag.Diagnostic{Severity: diag.Error, Summary: summary, Detail: detail + " (" + err.Code + ")",
			Subject: locRange(err.Location)})
	}
	return diags
}

// locRange converts a Rego location into an HCL range for diagnostics.
func locRange(loc *ast.Location) *hcl.Range {
	if loc == nil || loc.File == "" {
		return nil
	}
	pos := hcl.Pos{Line: loc.Row, Column: max(loc.Col, 1), Byte: loc.Offset}
	end := pos
	if n := len(loc.Text); n > 0 && !bytes.ContainsRune(loc.Text, '\n') {
		end.Column += n
		end.Byte += n
	}
	return &hcl.Range{Filename: loc.File, Start: pos, End: end}
}
