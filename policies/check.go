package policies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// PlanError reports a document that is not a fabrica plan.
type PlanError struct {
	Msg string
	Err error
}

// Error describes what is wrong with the document.
func (e *PlanError) Error() string {
	if e.Err != nil {
		return "not a fabrica plan: " + e.Msg + ": " + e.Err.Error()
	}
	return "not a fabrica plan: " + e.Msg
}

// Unwrap returns the underlying error, such as a *SyntaxError.
func (e *PlanError) Unwrap() error { return e.Err }

// EvalError reports a policy rule that failed while evaluating (a built-in error such
// as a bad argument, or a conflict between rule definitions), or that returned a result
// of the wrong shape.
type EvalError struct {
	RuleID string
	// File and Line locate the failing expression, or the rule.
	File string
	Line int
	Err  error
}

// Error names the rule, its file and line, and the failure.
func (e *EvalError) Error() string {
	return fmt.Sprintf("policy rule %s (%s:%d) failed: %v", e.RuleID, e.File, e.Line, e.Err)
}

// Unwrap returns the evaluation error.
func (e *EvalError) Unwrap() error { return e.Err }

// planHint is how a plan document is obtained.
const planHint = "expected the JSON of `fabrica plan --json`, `fabrica show --json PLANFILE`, or a plan file written by `plan --out`"

// Members of the plan JSON, which the policy input is read and built by.
var (
	keyResourceChanges     = ast.StringTerm("resource_changes")
	keyFormatVersion       = ast.StringTerm("format_version")
	keyAddress             = ast.StringTerm("address")
	keyDeclRange           = ast.StringTerm("decl_range")
	keyKind                = ast.StringTerm("kind")
	keyName                = ast.StringTerm("name")
	keyIndex               = ast.StringTerm("index")
	keyProvider            = ast.StringTerm("provider")
	keyAction              = ast.StringTerm("action")
	keyReason              = ast.StringTerm("reason")
	keyBefore              = ast.StringTerm("before")
	keyAfter               = ast.StringTerm("after")
	keyAfterUnknown        = ast.StringTerm("after_unknown")
	keyDerived             = ast.StringTerm("derived")
	keyReplacePaths        = ast.StringTerm("replace_paths")
	keyChangedAttributes   = ast.StringTerm("changed_attributes")
	keySensitiveAttributes = ast.StringTerm("sensitive_attributes")
	keyPriorID             = ast.StringTerm("prior_id")
	keyConfigHash          = ast.StringTerm("config_hash")
	keyDependencies        = ast.StringTerm("dependencies")
	keyCreateBeforeDestroy = ast.StringTerm("create_before_destroy")
	keyPreventDestroy      = ast.StringTerm("prevent_destroy")
	keyRecordOnly          = ast.StringTerm("record_only")
)

// Check evaluates every policy over a plan document (the plan JSON of DESIGN.md §5)
// and returns the findings with waivers applied. Only the changes a plan keeps are
// checked: policies read each change's after attributes and skip deletions. The error
// is a *PlanError for a document that is not a plan, an *EvalError for a rule that
// fails, or a context error.
func (e *Engine) Check(ctx context.Context, planJSON []byte) (*Report, error) {
	plan, err := decodePlanInput(planJSON)
	if err != nil {
		return nil, &PlanError{Msg: "the document is not valid JSON", Err: err}
	}
	return e.check(ctx, plan)
}

// CheckPlan is Check of a plan held in memory: the same findings as Check of its plan
// JSON (plans.Encode), without writing and reading that JSON. p must be redacted
// (plans.Redact), as the plan JSON is. The error is a *PlanError for a plan whose
// attributes, outputs or variables are not valid JSON, else as Check's.
func (e *Engine) CheckPlan(ctx context.Context, p *plans.Plan) (*Report, error) {
	drop := hardwareKind
	if e.readsHardware {
		drop = ""
	}
	plan, err := planInputOf(p, drop)
	if err != nil {
		return nil, err
	}
	return e.check(ctx, plan)
}

func (e *Engine) check(ctx context.Context, plan *planInput) (*Report, error) {
	input := plan.value
	if err := validatePlan(input); err != nil {
		if jerr := plan.valid(); jerr != nil { // invalid JSON comes first, as it always has
			return nil, &PlanError{Msg: "the document is not valid JSON", Err: jerr}
		}
		return nil, err
	}
	now := e.now()
	rs, err := e.query.Eval(withChangeKinds(ctx, plan.kinds), rego.EvalParsedInput(input), rego.EvalTime(now))
	if err := plan.valid(); err != nil {
		return nil, &PlanError{Msg: "the document is not valid JSON", Err: err}
	}
	if err != nil {
		return nil, e.isolate(ctx, input, rego.EvalTime(now), err)
	}
	var results map[string]any
	if len(rs) > 0 && len(rs[0].Expressions) > 0 {
		results, _ = rs[0].Expressions[0].Value.(map[string]any)
	}
	var findings []Finding
	for _, id := range slices.Sorted(maps.Keys(results)) {
		fs, err := e.findings(id, results[id])
		if err != nil {
			return nil, err
		}
		findings = append(findings, fs...)
	}
	e.locate(plan, findings)
	r := &Report{Findings: findings, Rules: e.Rules(), CheckedAt: now}
	r.WaiverNotes = applyWaivers(r.Findings, e.waivers, now)
	sortFindings(r.Findings)
	return r, nil
}

// validatePlan checks that a document has the shape of a plan.
func validatePlan(v ast.Value) error {
	obj, ok := v.(ast.Object)
	if !ok {
		return &PlanError{Msg: fmt.Sprintf("the document is a JSON %s, not an object (%s)", ast.ValueName(v), planHint)}
	}
	fv := obj.Get(keyFormatVersion)
	rcs := obj.Get(keyResourceChanges)
	if fv == nil || rcs == nil {
		return &PlanError{Msg: fmt.Sprintf("the document has no format_version or resource_changes (%s)", planHint)}
	}
	s, ok := fv.Value.(ast.String)
	if !ok || (s != "1" && !strings.HasPrefix(string(s), "1.")) {
		return &PlanError{Msg: fmt.Sprintf("plan format_version %s is not supported; this fabrica reads 1.x", fv)}
	}
	switch rcs.Value.(type) {
	case *ast.Array, ast.Null:
		return nil
	}
	return &PlanError{Msg: "resource_changes is not a list"}
}

// findings converts one rule's result into findings.
func (e *Engine) findings(id string, v any) ([]Finding, error) {
	info := e.rule(id)
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case bool:
		if x {
			items = []any{"denied by " + id}
			if info != nil && info.Title != "" {
				items = []any{info.Title}
			}
		}
	case nil:
	default:
		items = []any{x}
	}
	out := make([]Finding, 0, len(items))
	for _, item := range items {
		f := Finding{RuleID: id, Severity: info.Severity}
		switch x := item.(type) {
		case string:
			f.Message = x
		case map[string]any:
			msg, ok := x["msg"].(string)
			if !ok {
				msg, ok = x["message"].(string)
			}
			addr, okA := optString(x, "address")
			attr, okT := optString(x, "attribute")
			if !ok || !okA || !okT {
				return nil, e.shapeError(id, item)
			}
			f.Message, f.Address, f.Attribute = msg, addr, attr
		default:
			return nil, e.shapeError(id, item)
		}
		out = append(out, f)
	}
	return out, nil
}

func optString(m map[string]any, key string) (string, bool) {
	v, present := m[key]
	if !present || v == nil {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}

func (e *Engine) shapeError(id string, item any) error {
	b, _ := json.Marshal(item)
	info := e.rule(id)
	return &EvalError{RuleID: id, File: info.File, Line: info.Line, Err: fmt.Errorf(
		"it returned %s; each result must be a string or an object with a string msg and optional string address and attribute", b)}
}

func (e *Engine) rule(id string) *RuleInfo {
	i, _ := slices.BinarySearchFunc(e.rules, id, func(r RuleInfo, id string) int { return strings.Compare(r.ID, id) })
	return &e.rules[i]
}

// isolate finds which rule failed, by evaluating the rules one at a time.
func (e *Engine) isolate(ctx context.Context, input ast.Value, at rego.EvalOption, cause error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for _, r := range e.rules {
		pq, err := rego.New(e.regoOptions(rego.Query(e.refs[r.ID].String()))...).PrepareForEval(ctx)
		if err == nil {
			_, err = pq.Eval(ctx, rego.EvalParsedInput(input), at)
		}
		if err != nil {
			ee := &EvalError{RuleID: r.ID, File: r.File, Line: r.Line, Err: err}
			var te *topdown.Error
			if errors.As(err, &te) && te.Location != nil && te.Location.File != "" {
				ee.File, ee.Line, ee.Err = te.Location.File, te.Location.Row, errors.New(strings.TrimRight(te.Message, ": "))
			}
			return ee
		}
	}
	return fmt.Errorf("evaluating policies: %w", cause)
}

// locate gives each finding the range of its attribute, or of its resource.
func (e *Engine) locate(plan *planInput, findings []Finding) {
	want := map[string]bool{}
	for _, f := range findings {
		if f.Address != "" {
			want[f.Address] = true
		}
	}
	if len(want) == 0 {
		return
	}
	type ranges struct{ decl, attrs *ast.Term }
	found := map[string]ranges{}
	resources := map[string][]string{}  // resource address → instance addresses found
	visit := func(i int, t *ast.Term) { // i: the change's index in the plan document's list, or -1
		obj, ok := t.Value.(ast.Object)
		if !ok {
			return
		}
		addr, ok := termString(obj.Get(keyAddress))
		if !ok || !want[addr] {
			return
		}
		rg := ranges{decl: obj.Get(keyDeclRange)}
		if i >= 0 && i < len(plan.ranges) && plan.ranges[i] != nil {
			// plan format 1.0: the change's own; checked to be valid JSON when decoded
			if v, err := decodeInput(plan.ranges[i]); err == nil {
				rg.attrs = ast.NewTerm(v)
			}
		} else {
			kind, _ := termString(obj.Get(keyKind))
			name, _ := termString(obj.Get(keyName))
			res := kind + "." + name
			resources[res] = append(resources[res], addr)
		}
		found[addr] = rg
	}
	arr, _ := plan.value.(ast.Object).Get(keyResourceChanges).Value.(*ast.Array)
	for i := 0; arr != nil && i < arr.Len() && len(found) < len(want); i++ {
		visit(i, arr.Elem(i))
	}
	if len(found) < len(want) && plan.dropped != nil {
		missing := map[string]bool{}
		for addr := range want {
			if _, ok := found[addr]; !ok {
				missing[addr] = true
			}
		}
		for _, t := range plan.dropped(missing) {
			visit(-1, t)
		}
	}
	lookup := plan.resourceRanges
	if lookup == nil {
		lookup = func(wanted map[string][]string) map[string]*ast.Term { return resourceRanges(plan.table, wanted) }
	}
	for res, attrs := range lookup(resources) {
		for _, addr := range resources[res] {
			rg := found[addr]
			rg.attrs = attrs
			found[addr] = rg
		}
	}
	seen := map[*ast.Term]*Range{}
	for i := range findings {
		f := &findings[i]
		rg, ok := found[f.Address]
		if !ok {
			continue
		}
		if f.Attribute != "" && rg.attrs != nil {
			if attrs, ok := rg.attrs.Value.(ast.Object); ok {
				for p := f.Attribute; p != "" && f.Range == nil; p = parentPath(p) {
					f.Range = e.rangeOf(attrs.Get(ast.StringTerm(p)), seen)
				}
			}
		}
		if f.Range == nil {
			f.Range = e.rangeOf(rg.decl, seen)
		}
	}
}

// resourceRanges returns the entries of the attribute_ranges table (JSON, checked
// valid when the plan was decoded) for the resources wanted, in one pass over it.
func resourceRanges(table []byte, wanted map[string][]string) map[string]*ast.Term {
	out := map[string]*ast.Term{}
	if len(table) == 0 || len(wanted) == 0 {
		return out
	}
	d := newDecoder(table, maphash.MakeSeed())
	d.skipWS()
	if d.peek() != '{' {
		return out
	}
	d.pos++
	for { // to the end: of duplicate keys the last counts, as everywhere in JSON
		d.skipWS()
		if d.peek() != '"' {
			return out
		}
		k, err := d.str(nil)
		if err != nil {
			return out
		}
		d.skipWS()
		if d.peek() != ':' {
			return out
		}
		d.pos++
		d.skipWS()
		start, end := d.pos, -1
		if c := d.peek(); c == '{' || c == '[' {
			end = d.skipComposite()
		} else if _, err := d.value(1); err == nil {
			end = d.pos
		}
		if end < 0 {
			return out
		}
		d.pos = end
		if name := string(k.Value.(ast.String)); wanted[name] != nil {
			if v, err := decodeInput(table[start:end]); err == nil {
				out[name] = ast.NewTerm(v)
			}
		}
		d.skipWS()
		if d.peek() != ',' {
			return out
		}
		d.pos++
	}
}

// parentPath returns "protection" for "protection.replicas", "env" for "env[0]", and
// "" for a top-level name.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// rangeOf converts a plan JSON range, making its file name relative to the base dir.
// Ranges are shared terms (every instance of a counted resource has the same), so
// converted ones are remembered in seen.
func (e *Engine) rangeOf(t *ast.Term, seen map[*ast.Term]*Range) *Range {
	if t == nil {
		return nil
	}
	if r, ok := seen[t]; ok {
		return r
	}
	var r *Range
	if obj, ok := t.Value.(ast.Object); ok {
		fn, _ := termString(obj.Get(keyFilename))
		if fn != "" {
			r = &Range{Filename: e.relative(fn), Start: posOf(obj.Get(keyStart)), End: posOf(obj.Get(keyEnd))}
		}
	}
	seen[t] = r
	return r
}

var (
	keyFilename = ast.StringTerm("filename")
	keyStart    = ast.StringTerm("start")
	keyEnd      = ast.StringTerm("end")
	keyLine     = ast.StringTerm("line")
	keyColumn   = ast.StringTerm("column")
	keyByte     = ast.StringTerm("byte")
)

func posOf(t *ast.Term) Pos {
	if t == nil {
		return Pos{}
	}
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return Pos{}
	}
	return Pos{Line: termInt(obj.Get(keyLine)), Column: termInt(obj.Get(keyColumn)), Byte: termInt(obj.Get(keyByte))}
}

func termInt(t *ast.Term) int {
	if t == nil {
		return 0
	}
	n, ok := t.Value.(ast.Number)
	if !ok {
		return 0
	}
	i, _ := n.Int()
	return i
}

func termString(t *ast.Term) (string, bool) {
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(ast.String)
	return string(s), ok
}

// relative makes an absolute file name relative to the base dir when it lies inside
// it, with forward slashes.
func (e *Engine) relative(name string) string {
	if e.baseDir != "" && filepath.IsAbs(name) {
		if rel, err := filepath.Rel(e.baseDir, name); err == nil && !strings.HasPrefix(rel, "..") {
			name = rel
		}
	}
	return filepath.ToSlash(name)
}
