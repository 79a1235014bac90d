package policies

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/fabrica-iac/fabrica/schema/diag"
)

// TestStatus is the outcome of one Rego test.
type TestStatus string

// Test outcomes.
const (
	TestPass  TestStatus = "pass"
	TestFail  TestStatus = "fail"
	TestError TestStatus = "error"
	TestSkip  TestStatus = "skip"
)

// TestResult is one Rego test rule (test_*) and its outcome.
type TestResult struct {
	// Package is the test's package without "data.", e.g. "fabrica.energy.pue_test".
	Package string `json:"package"`
	Name    string `json:"name"`
	// File and Line locate the test rule.
	File   string     `json:"file"`
	Line   int        `json:"line"`
	Status TestStatus `json:"status"`
	// Duration is how long the test ran.
	Duration time.Duration `json:"duration_ns"`
	// FailedAt is "file:line: expression" of the last expression that failed, for a
	// failed test, when known.
	FailedAt string `json:"failed_at,omitempty"`
	// Message is the error of an errored test.
	Message string `json:"message,omitempty"`
	// Output is what the test printed with print().
	Output string `json:"output,omitempty"`
}

// TestReport holds the results of RunTests, sorted by file, line and name.
type TestReport struct {
	Results []TestResult `json:"results"`
}

// TestCounts tallies test outcomes.
type TestCounts struct{ Pass, Fail, Error, Skip int }

// Counts tallies the report's results.
func (r *TestReport) Counts() TestCounts {
	var c TestCounts
	for _, t := range r.Results {
		switch t.Status {
		case TestPass:
			c.Pass++
		case TestFail:
			c.Fail++
		case TestError:
			c.Error++
		case TestSkip:
			c.Skip++
		}
	}
	return c
}

// Failed reports whether any test failed or errored.
func (r *TestReport) Failed() bool {
	c := r.Counts()
	return c.Fail+c.Error > 0
}

// RunTests runs the Rego tests (test_* rules, in any .rego file, conventionally
// *_test.rego) of the given directories with OPA's tester, as `fabrica policy test`.
// The bundled policies and their parameter defaults (data.params) are always loaded, so
// user policies and tests can use data.fabrica.lib and the builtin rules;
// includeBuiltin also runs the bundled policies' own tests. Directories' params.json
// declare their parameters. Rego errors come back as diagnostics with file and line.
func RunTests(ctx context.Context, dirs []string, includeBuiltin bool) (*TestReport, diag.Diagnostics) {
	var diags diag.Diagnostics
	ps := &paramSet{defaults: map[string]any{}, origin: map[string]string{}}
	var bundles []*bundleFiles
	for _, name := range append([]string{BuiltinBundle}, dirs...) {
		b, err := readBundle(name, "", name != BuiltinBundle || includeBuiltin)
		if err != nil {
			diags = diags.Append(errorDiag("Invalid policy directory", err.Error(), nil))
			continue
		}
		if b.params != nil {
			if err := ps.declare(name, b.paramsPath, b.params); err != nil {
				diags = diags.Append(errorDiag("Invalid policy parameters", err.Error(), nil))
			}
		}
		bundles = append(bundles, b)
	}
	modules, perrs := parseBundles(bundles)
	if diags = diags.Append(regoDiags(perrs)); diags.HasErrors() {
		return nil, diags
	}
	data, _ := json.Marshal(map[string]any{"params": ps.defaults})
	store := inmem.NewFromReaderWithOpts(bytes.NewReader(data), inmem.OptRoundTripOnWrite(false))
	compiler := ast.NewCompiler().WithUnsafeBuiltins(unsafeBuiltins).WithEnablePrintStatements(true)
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, diags.Append(err)
	}
	defer store.Abort(ctx, txn)
	ch, err := tester.NewRunner().SetCompiler(compiler).SetStore(store).SetModules(modules).
		EnableTracing(true).CapturePrintOutput(true).RaiseBuiltinErrors(true).
		SetTimeout(30*time.Second).RunTests(ctx, txn)
	if err != nil {
		if errs, ok := err.(ast.Errors); ok {
			return nil, diags.Append(regoDiags(errs))
		}
		return nil, diags.Append(fmt.Errorf("running policy tests: %w", err))
	}
	rep := &TestReport{}
	for r := range ch {
		rep.Results = append(rep.Results, testResult(r))
	}
	slices.SortFunc(rep.Results, func(a, b TestResult) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Name, b.Name))
	})
	return rep, diags
}

func testResult(r *tester.Result) TestResult {
	t := TestResult{Package: strings.TrimPrefix(r.Package, "data."), Name: r.Name, Duration: r.Duration, Output: string(r.Output)}
	if r.Location != nil {
		t.File, t.Line = r.Location.File, r.Location.Row
	}
	switch {
	case r.Skip:
		t.Status = TestSkip
	case r.Error != nil:
		t.Status, t.Message = TestError, r.Error.Error()
	case r.Fail:
		t.Status, t.FailedAt = TestFail, failedAt(r)
	default:
		t.Status = TestPass
	}
	return t
}

// failedAt finds the last expression of the test's own file that failed.
func failedAt(r *tester.Result) string {
	if r.Location == nil {
		return ""
	}
	var last *topdown.Event
	for _, ev := range r.Trace {
		if ev.Op == topdown.FailOp && ev.Location != nil && ev.Location.File == r.Location.File {
			if _, ok := ev.Node.(*ast.Expr); ok {
				last = ev
			}
		}
	}
	if last == nil {
		return ""
	}
	text := strings.TrimSpace(string(last.Location.Text))
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i] + " ..."
	}
	return fmt.Sprintf("%s:%d: %s", last.Location.File, last.Location.Row, text)
}
