package report

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/fabrica-iac/fabrica/policies"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func mustExpiry(t *testing.T, s string) time.Time {
	t.Helper()
	e, err := policies.ParseExpiry(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func waiverRange(line int) *policies.Range {
	return &policies.Range{Filename: "main.fab.hcl", Start: policies.Pos{Line: line, Column: 5, Byte: 0}, End: policies.Pos{Line: line, Column: 30, Byte: 25}}
}

// violationsReport checks ../testdata/violations.plan.json with three waivers: one in
// force, one expired, one that matches nothing.
func violationsReport(t *testing.T) *policies.Report {
	t.Helper()
	e, diags := policies.Load(context.Background(), policies.Options{
		BaseDir: "/repo",
		Now:     func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) },
		Waivers: []policies.Waiver{
			{Rule: "security.image_digest", Address: "training_job.llm", Reason: "vendor image, pinned next sprint",
				Expires: mustExpiry(t, "2026-12-31"), Range: waiverRange(80)},
			{Rule: "energy.renewable.warn", Address: "facility.pod", Reason: "PPA starts in 2027",
				Expires: mustExpiry(t, "2026-11-01"), Range: waiverRange(86)},
			{Rule: "reliability.dr_drill", Reason: "first drill scheduled", Expires: mustExpiry(t, "2027-01-31"), Range: waiverRange(92)},
		},
	})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	plan, err := os.ReadFile("../testdata/violations.plan.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Check(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

func TestRenderers_golden(t *testing.T) {
	r := violationsReport(t)
	for _, tc := range []struct {
		file   string
		render func(*bytes.Buffer) error
	}{
		{"violations.txt.golden", func(b *bytes.Buffer) error { return Text(b, r, false) }},
		{"violations.json.golden", func(b *bytes.Buffer) error { return JSON(b, r) }},
		{"violations.junit.xml.golden", func(b *bytes.Buffer) error { return JUnit(b, r) }},
		{"violations.sarif.golden", func(b *bytes.Buffer) error { return SARIF(b, r, "0.1.0") }},
		{"violations.github.golden", func(b *bytes.Buffer) error { return GitHub(b, r) }},
		{"violations.md.golden", func(b *bytes.Buffer) error { return Markdown(b, r) }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.render(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, b.Bytes())
			var again bytes.Buffer
			if err := tc.render(&again); err != nil || !bytes.Equal(b.Bytes(), again.Bytes()) {
				t.Errorf("output is not deterministic (err %v)", err)
			}
		})
	}
}

func TestText_color(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, violationsReport(t), true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), ansiRed+"DENY") && !strings.Contains(b.String(), ansiBold+ansiRed+"DENY") {
		t.Errorf("no red DENY in colored output:\n%s", b.String())
	}
}

func TestText_empty(t *testing.T) {
	var b bytes.Buffer
	r := &policies.Report{Rules: []policies.RuleInfo{{ID: "energy.pue.deny"}}}
	if err := Text(&b, r, false); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "Policy check: no findings (1 rule)\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestSARIF_schema validates the SARIF output against the SARIF 2.1.0 JSON schema
// (testdata/sarif-2.1.0-rtm.5.json, from the npm package @microsoft/jest-sarif, MIT), with
// OPA's json.match_schema.
func TestSARIF_schema(t *testing.T) {
	var b bytes.Buffer
	if err := SARIF(&b, violationsReport(t), "0.1.0"); err != nil {
		t.Fatal(err)
	}
	schema, err := os.ReadFile("testdata/sarif-2.1.0-rtm.5.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc, sch any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(schema, &sch); err != nil {
		t.Fatal(err)
	}
	rs, err := rego.New(rego.Query("x := json.match_schema(input.doc, input.schema)"),
		rego.Input(map[string]any{"doc": doc, "schema": sch})).Eval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res := rs[0].Bindings["x"].([]any)
	if ok, _ := res[0].(bool); !ok {
		t.Errorf("SARIF output does not match the 2.1.0 schema: %v", res[1])
	}
	// a broken document must fail, so the check is real
	rs, err = rego.New(rego.Query(`x := json.match_schema({"version": "2.0", "runs": []}, input.schema)`),
		rego.Input(map[string]any{"schema": sch})).Eval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := rs[0].Bindings["x"].([]any)[0].(bool); ok {
		t.Error("the schema accepted version 2.0")
	}
}

func TestGitHub_escaping(t *testing.T) {
	r := &policies.Report{Findings: []policies.Finding{{
		RuleID: "custom.x.deny", Severity: policies.Deny, Message: "50% done\nnext, line", Address: "a.b",
		Range: &policies.Range{Filename: "dir,1/x:y.hcl", Start: policies.Pos{Line: 2, Column: 3}, End: policies.Pos{Line: 4, Column: 1}},
	}}}
	var b bytes.Buffer
	if err := GitHub(&b, r); err != nil {
		t.Fatal(err)
	}
	want := "::error file=dir%2C1/x%3Ay.hcl,line=2,endLine=4,title=custom.x.deny::a.b: 50%25 done%0Anext, line\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}
