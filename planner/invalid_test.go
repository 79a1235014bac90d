package planner_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
)

// minInvalidFixtures is the size of the bad-input corpus the project promises.
const minInvalidFixtures = 40

// TestInvalidFixtures loads and evaluates every configuration in testdata/invalid and checks
// that it fails exactly where its markers say.
//
// Each fixture holds one mistake. The offending line ends with a marker naming the summary
// of the error diagnostic expected there:
//
//	it_power_kv = 50 # ERROR: Unsupported argument (did you mean)
//
// A marker may end with "(did you mean)", which also requires a "did you mean" suggestion
// in the diagnostic's detail, or with "(detail: TEXT)", which requires TEXT in the detail
// (both case-insensitive). In *.fab.json fixtures, which cannot hold comments, the marker
// is HCL's JSON comment property on the offending line: "//": "ERROR: Unsupported argument".
//
// For every marker there must be an error diagnostic whose subject starts on that line with
// that summary and a non-empty detail, and every error diagnostic must be claimed by a
// marker, so a fixture tests exactly the mistake it declares.
func TestInvalidFixtures(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"testdata/invalid/*" + schema.SuffixHCL, "testdata/invalid/*" + schema.SuffixJSON} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	sort.Strings(paths)
	if len(paths) < minInvalidFixtures {
		t.Fatalf("testdata/invalid holds %d fixtures; the corpus must keep at least %d", len(paths), minInvalidFixtures)
	}
	for _, p := range paths {
		name := filepath.Base(p)
		t.Run(strings.TrimSuffix(strings.TrimSuffix(name, schema.SuffixHCL), schema.SuffixJSON), func(t *testing.T) {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			checkInvalidFixture(t, name, src)
		})
	}
}

// expectation is one marker: an error with Summary must start on Line.
type expectation struct {
	Line    int
	Summary string
	// Detail, when set, must appear in the diagnostic's detail (case-insensitive).
	Detail string
}

var (
	markerRE = regexp.MustCompile(`#\s*ERROR:\s*(.*)$|"//"\s*:\s*"\s*ERROR:\s*([^"]*)"`)
	detailRE = regexp.MustCompile(`^(.*?)\s*\((did you mean|detail:\s*(.*))\)$`)
)

// parseMarkers returns the markers of a fixture, one per marked line.
func parseMarkers(src []byte) ([]expectation, error) {
	var out []expectation
	for i, line := range strings.Split(string(src), "\n") {
		m := markerRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		e := expectation{Line: i + 1, Summary: strings.TrimSpace(m[1] + m[2])}
		if d := detailRE.FindStringSubmatch(e.Summary); d != nil {
			e.Summary, e.Detail = d[1], d[2]
			if d[3] != "" {
				e.Detail = d[3]
			}
		}
		if e.Summary == "" {
			return nil, fmt.Errorf("line %d: the ERROR marker names no diagnostic summary", e.Line)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no ERROR marker: mark the offending line with # ERROR: <summary>")
	}
	return out, nil
}

// checkInvalidFixture loads and evaluates one fixture and matches its error diagnostics
// against its markers.
func checkInvalidFixture(t *testing.T, name string, src []byte) {
	t.Helper()
	want, err := parseMarkers(src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	diags := evaluateFixture(t, name, src)
	errs := diags.Errors()
	claimed := make([]bool, len(errs))
	var problems []string
	for _, w := range want {
		found := false
		for i, d := range errs {
			if d.Subject == nil || d.Subject.Start.Line != w.Line || d.Summary != w.Summary {
				continue
			}
			claimed[i] = true
			found = true
			if d.Subject.Filename != name {
				problems = append(problems, fmt.Sprintf("line %d: %q points into %q, not the fixture", w.Line, w.Summary, d.Subject.Filename))
			}
			if d.Subject.Start.Column <= 0 {
				problems = append(problems, fmt.Sprintf("line %d: %q has no column", w.Line, w.Summary))
			}
			if strings.TrimSpace(d.Detail) == "" {
				problems = append(problems, fmt.Sprintf("line %d: %q has an empty detail; it must say how to fix the mistake", w.Line, w.Summary))
			}
			if w.Detail != "" && !strings.Contains(strings.ToLower(d.Detail), strings.ToLower(w.Detail)) {
				problems = append(problems, fmt.Sprintf("line %d: the detail of %q does not contain %q: %s", w.Line, w.Summary, w.Detail, d.Detail))
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("line %d: no error %q", w.Line, w.Summary))
		}
	}
	for i, d := range errs {
		if !claimed[i] {
			problems = append(problems, fmt.Sprintf("unexpected error at %s: %q", diagPos(d), d.Summary))
		}
	}
	if len(problems) > 0 {
		t.Errorf("%s:\n  %s\ndiagnostics produced:\n%s", name, strings.Join(problems, "\n  "), formatDiags(diags))
	}
}

// evaluateFixture loads a fixture and, when it loads cleanly, evaluates it, as validate
// does. It fails the test on a panic, naming the fixture.
func evaluateFixture(t *testing.T, name string, src []byte) (diags diag.Diagnostics) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: panic: %v", name, r)
		}
	}()
	cfg, diags := schema.LoadSources(map[string][]byte{name: src})
	if diags.HasErrors() {
		return diags
	}
	_, ed := planner.Evaluate(cfg, planner.InputVars{})
	return diags.Append(ed)
}

func diagPos(d diag.Diagnostic) string {
	if d.Subject == nil {
		return "(no source range)"
	}
	return fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
}

func formatDiags(diags diag.Diagnostics) string {
	if len(diags) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "  %s %s %s: %s\n", diagPos(d), d.Severity, d.Summary, d.Detail)
	}
	return b.String()
}
