package policies

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fabrica-iac/fabrica/schema/diag"
)

var checkTime = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return checkTime }

func load(t *testing.T, opts Options) *Engine {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	e, diags := Load(context.Background(), opts)
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	return e
}

func readPlan(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/violations.plan.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// brief is a finding reduced to what the tests compare.
type brief struct {
	Rule, Severity, Address, Attribute, At string
}

func briefs(r *Report) []brief {
	var out []brief
	for _, f := range r.Findings {
		b := brief{Rule: f.RuleID, Severity: string(f.Severity), Address: f.Address, Attribute: f.Attribute}
		if f.Range != nil {
			b.At = f.Range.Filename + ":" + strconv.Itoa(f.Range.Start.Line)
		}
		out = append(out, b)
	}
	return out
}

func TestCheck_findingsWithRanges(t *testing.T) {
	e := load(t, Options{BaseDir: "/repo"})
	r, err := e.Check(context.Background(), readPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []brief{
		{"energy.growth.warn", "warn", "facility.pod", "", "main.fab.hcl:1"},
		{"energy.power_headroom.deny", "deny", "facility.pod", "it_power_kw", "main.fab.hcl:2"},
		{"energy.pue.deny", "deny", "facility.pod", "design_pue", "main.fab.hcl:3"},
		{"energy.renewable.warn", "warn", "facility.pod", "renewable_fraction", "main.fab.hcl:5"},
		{"energy.rack_density.deny", "deny", "facility.pod", "rack_cooling", "main.fab.hcl:8"},
		{"security.tenant_isolation.deny", "deny", "fabric.compute", "isolation", "main.fab.hcl:24"},
		{"security.encryption_at_rest.deny", "deny", "storage.ceph", "encryption_at_rest", "main.fab.hcl:36"},
		{"reliability.storage_protection.deny", "deny", "storage.ceph", "protection.replicas", "main.fab.hcl:40"},
		{"security.image_digest.deny", "deny", "training_job.llm", "image", "main.fab.hcl:55"},
		{"security.secrets.deny", "deny", "training_job.llm", "env", "main.fab.hcl:56"},
		{"security.dr_separation.deny", "deny", "dr_site.dr", "secondary", "main.fab.hcl:62"},
	}
	if diff := cmp.Diff(want, briefs(r)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if !r.Denied() {
		t.Error("Denied() = false")
	}
	if got, want := r.Counts(), (Counts{Deny: 9, Warn: 2}); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
	if r.Rule("energy.pue.deny") == nil || r.Rule("energy.pue.deny").Title != "Design PUE ceiling" {
		t.Errorf("Rule(energy.pue.deny) = %+v", r.Rule("energy.pue.deny"))
	}
}

func TestCheck_absoluteNamesOutsideBaseDir(t *testing.T) {
	e := load(t, Options{BaseDir: "/elsewhere"})
	r, err := e.Check(context.Background(), readPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Findings[0].Range.Filename; got != "/repo/main.fab.hcl" {
		t.Errorf("filename = %q, want the absolute name kept", got)
	}
}

func TestCheck_attributeRangeFallsBackToParentThenDecl(t *testing.T) {
	plan := `{"format_version": "1.0", "resource_changes": [{"address": "storage.s", "kind": "storage", "action": "create",
		"after": {"encryption_at_rest": true, "encryption_in_transit": true, "protection": {"mode": "erasure", "coding_chunks": 1}},
		"decl_range": {"filename": "s.fab.hcl", "start": {"line": 1, "column": 1, "byte": 0}, "end": {"line": 1, "column": 12, "byte": 11}},
		"attribute_ranges": {"protection": {"filename": "s.fab.hcl", "start": {"line": 4, "column": 3, "byte": 40}, "end": {"line": 4, "column": 13, "byte": 50}}}}]}`
	r, err := load(t, Options{}).Check(context.Background(), []byte(plan))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].Range == nil || r.Findings[0].Range.Start.Line != 4 {
		t.Fatalf("findings = %+v, want one at line 4 (the protection block)", r.Findings)
	}
}

// In plan format 1.1 the ranges are the document's, by resource: an instance's finding
// lands on its resource's attribute.
func TestCheck_attributeRangesByResource(t *testing.T) {
	plan := `{"format_version": "1.1", "resource_changes": [
		{"address": "storage.s[0]", "kind": "storage", "name": "s", "index": 0, "action": "create",
		"after": {"encryption_at_rest": true, "encryption_in_transit": true, "protection": {"mode": "erasure", "coding_chunks": 1}},
		"decl_range": {"filename": "s.fab.hcl", "start": {"line": 1, "column": 1, "byte": 0}, "end": {"line": 1, "column": 12, "byte": 11}}},
		{"address": "storage.t", "kind": "storage", "name": "t", "action": "create",
		"after": {"encryption_at_rest": true, "encryption_in_transit": true, "protection": {"mode": "erasure", "coding_chunks": 1}},
		"decl_range": {"filename": "t.fab.hcl", "start": {"line": 7, "column": 1, "byte": 0}, "end": {"line": 7, "column": 12, "byte": 11}}}],
		"attribute_ranges": {
			"storage.s": {"protection": {"filename": "s.fab.hcl", "start": {"line": 4, "column": 3, "byte": 40}, "end": {"line": 4, "column": 13, "byte": 50}}},
			"storage.t": {"protection": {"filename": "t.fab.hcl", "start": {"line": 2, "column": 3, "byte": 40}, "end": {"line": 2, "column": 13, "byte": 50}}},
			"storage.t": {"protection": {"filename": "t.fab.hcl", "start": {"line": 9, "column": 3, "byte": 40}, "end": {"line": 9, "column": 13, "byte": 50}}},
			"storage.u": null}}`
	r, err := load(t, Options{}).Check(context.Background(), []byte(plan))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]int{}
	for _, f := range r.Findings {
		if f.Range != nil {
			lines[f.Address] = f.Range.Start.Line
		}
	}
	// storage.t is listed twice: the last counts, as in any JSON object.
	if want := map[string]int{"storage.s[0]": 4, "storage.t": 9}; !maps.Equal(lines, want) {
		t.Errorf("finding lines = %v, want %v (findings %+v)", lines, want, r.Findings)
	}
}

func TestCheck_notAPlan(t *testing.T) {
	e := load(t, Options{})
	for name, tc := range map[string]struct{ doc, want string }{
		"invalid json":    {`{"format_version": "1.0",`, "invalid JSON at line 1, column 26"},
		"array":           {`[1, 2]`, "JSON array, not an object"},
		"validate output": {`{"format_version": "1.0", "valid": false, "diagnostics": []}`, "has no format_version or resource_changes"},
		"future version":  {`{"format_version": "2.0", "resource_changes": []}`, "format_version \"2.0\" is not supported"},
		"bad changes":     {`{"format_version": "1.0", "resource_changes": 3}`, "resource_changes is not a list"},
		"trailing data":   {`{"format_version": "1.0", "resource_changes": []} x`, "after the top-level value"},
		"bad ranges":      {`{"format_version": "1.1", "resource_changes": [], "attribute_ranges": {"a": {"b": 1,}}}`, "invalid JSON at line 1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.Check(context.Background(), []byte(tc.doc))
			var pe *PlanError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a PlanError containing %q", err, tc.want)
			}
		})
	}
	r, err := e.Check(context.Background(), []byte(`{"format_version": "1.0", "resource_changes": null}`))
	if err != nil || len(r.Findings) != 0 {
		t.Errorf("empty plan: %v, %+v", err, r)
	}
}

func TestWaivers(t *testing.T) {
	exp := func(s string) time.Time {
		e, err := ParseExpiry(s)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	waivers := []Waiver{
		{Rule: "energy.pue", Address: "facility.pod", Reason: "retrofit in 2027", Expires: exp("2026-12-31")},
		{Rule: "security", Address: "training_job.*", Reason: "vendor job", Expires: exp("2026-11-29")},
		{Rule: "reliability.storage_protection.deny", Address: "storage.ceph", Reason: "old", Expires: exp("2026-11-28")},
		{Rule: "energy.renewable.warn", Address: "facility.other", Reason: "nothing there", Expires: exp("2027-01-01")},
	}
	r, err := load(t, Options{Waivers: waivers}).Check(context.Background(), readPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range r.Findings {
		w := ""
		if f.Waiver != nil {
			w = " by " + f.Waiver.Rule
		}
		got[f.RuleID+" "+f.Address] = string(f.Severity) + w
	}
	for key, want := range map[string]string{
		"energy.pue.deny facility.pod":                     "waived by energy.pue",
		"security.image_digest.deny training_job.llm":      "waived by security", // the day of expiry still holds
		"security.secrets.deny training_job.llm":           "waived by security",
		"reliability.storage_protection.deny storage.ceph": "deny by reliability.storage_protection.deny",
		"security.encryption_at_rest.deny storage.ceph":    "deny",
	} {
		if got[key] != want {
			t.Errorf("%s: got %q, want %q", key, got[key], want)
		}
	}
	var notes []string
	for _, n := range r.WaiverNotes {
		notes = append(notes, string(n.Kind)+" "+n.Waiver.Rule)
	}
	if diff := cmp.Diff([]string{"expired reliability.storage_protection.deny", "unmatched energy.renewable.warn"}, notes); diff != "" {
		t.Errorf("waiver notes (-want +got):\n%s", diff)
	}
	if c := r.Counts(); c.Waived != 3 || c.Waivers != 2 {
		t.Errorf("counts = %+v", c)
	}
}

func TestWaiver_matching(t *testing.T) {
	w := Waiver{Rule: "energy.pue", Address: "hardware.dgx"}
	for addr, want := range map[string]bool{"hardware.dgx": true, "hardware.dgx[3]": true, "hardware.dgx2": false} {
		if w.MatchesAddress(addr) != want {
			t.Errorf("MatchesAddress(%q) != %v", addr, want)
		}
	}
	g := Waiver{Address: "hardware.dgx[*]"}
	if !g.MatchesAddress("hardware.dgx[12]") || g.MatchesAddress("hardware.gpu[1]") {
		t.Error("glob matching is wrong")
	}
	if !w.MatchesRule("energy.pue.deny") || w.MatchesRule("energy.pue_x.deny") || !w.MatchesRule("energy.pue") {
		t.Error("rule matching is wrong")
	}
	if _, err := ParseExpiry("31/12/2026"); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("ParseExpiry of a bad date: %v", err)
	}
	if e, _ := ParseExpiry("2026-12-31T18:00:00Z"); !e.Equal(time.Date(2026, 12, 31, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("ParseExpiry RFC 3339 = %v", e)
	}
}

func loadDiags(t *testing.T, opts Options) diag.Diagnostics {
	t.Helper()
	opts.Now = fixedNow
	e, diags := Load(context.Background(), opts)
	if e != nil && diags.HasErrors() {
		t.Error("Load returned an engine with errors")
	}
	return diags
}

func TestLoad_badInput(t *testing.T) {
	year := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		opts        Options
		summary     string
		detail, loc string
	}{
		"syntax error": {Options{Bundles: []string{"testdata/bad-syntax"}}, "Rego syntax error",
			"testdata/bad-syntax/broken.rego:4", "testdata/bad-syntax/broken.rego:4"},
		"type error": {Options{Bundles: []string{"testdata/bad-type"}}, "Rego type error",
			"testdata/bad-type/typed.rego:4", "testdata/bad-type/typed.rego:4"},
		"reserved package": {Options{Bundles: []string{"builtin", "testdata/reserved"}}, "Reserved policy package",
			"declares package fabrica_engine_internal, which fabrica keeps", "testdata/reserved/sneaky.rego:1"},
		"missing dir": {Options{Bundles: []string{"builtin", "testdata/nope"}}, "Invalid policy bundle", "no such file", ""},
		"unknown param": {Options{Params: map[string]any{"pue_wran": 1.4}, ParamRanges: map[string]*Range{"pue_wran": {Filename: "main.fab.hcl", Start: Pos{Line: 7, Column: 5}}}},
			"Invalid policy parameter", `unknown policy parameter "pue_wran"; did you mean "pue_warn"? Known parameters: checkpoint_max_interval_minutes,`, "main.fab.hcl:7"},
		"param type": {Options{Params: map[string]any{"pue_warn": "high"}}, "Invalid policy parameter",
			`"pue_warn" must be a number (its default is 1.3), not a string`, ""},
		"waiver without reason": {Options{Waivers: []Waiver{{Rule: "energy.pue", Expires: year}}}, "Invalid policy waiver", "It has no reason", ""},
		"waiver without expiry": {Options{Waivers: []Waiver{{Rule: "energy.pue", Reason: "r"}}}, "Invalid policy waiver", "It has no expiry", ""},
		"waiver unknown rule": {Options{Waivers: []Waiver{{Rule: "energy.peu", Reason: "r", Expires: year,
			Range: &Range{Filename: "main.fab.hcl", Start: Pos{Line: 9, Column: 3}}}}},
			"Invalid policy waiver", `No loaded policy rule is "energy.peu" or under it. Did you mean "energy.pue"?`, "main.fab.hcl:9"},
	} {
		t.Run(name, func(t *testing.T) {
			diags := loadDiags(t, tc.opts)
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			d := diags.Errors()[0]
			if d.Summary != tc.summary || !strings.Contains(d.Detail, tc.detail) {
				t.Errorf("got %q: %q\nwant %q containing %q", d.Summary, d.Detail, tc.summary, tc.detail)
			}
			if tc.loc != "" && (d.Subject == nil || d.Subject.Filename+":"+strconv.Itoa(d.Subject.Start.Line) != tc.loc) {
				t.Errorf("subject = %v, want %s", d.Subject, tc.loc)
			}
		})
	}
}

func TestLoad_userBundleWithParams(t *testing.T) {
	plan := []byte(`{"format_version": "1.0", "resource_changes": [{"address": "storage.big", "kind": "storage", "action": "create",
		"after": {"nodes": 150, "encryption_at_rest": true, "encryption_in_transit": true}}]}`)
	e := load(t, Options{Bundles: []string{"builtin", "testdata/user-bundle"}})
	r, err := e.Check(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range r.Findings {
		got[f.RuleID] = f.Message
	}
	want := map[string]string{"custom.storage_size.deny": "150 nodes is more than 100", "custom.storage_size.warn_bare": "a bare string finding"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if r.Rule("custom.storage_size.warn_bare").Severity != Warn {
		t.Error("warn_bare is not a warning rule")
	}
	e = load(t, Options{Bundles: []string{"builtin", "testdata/user-bundle"}, Params: map[string]any{"max_storage_nodes": 200}})
	if r, _ := e.Check(context.Background(), plan); len(r.Findings) != 1 {
		t.Errorf("with max_storage_nodes = 200: %+v", r.Findings)
	}
	if diags := loadDiags(t, Options{Bundles: []string{"testdata/user-bundle"}}); diags.HasErrors() {
		t.Errorf("a user bundle alone does not load: %v", diags.Err())
	}
}

func TestLoad_packageOutsideFabricaWarns(t *testing.T) {
	diags := loadDiags(t, Options{Bundles: []string{"builtin", "testdata/outside"}})
	if diags.HasErrors() || len(diags) != 1 || !strings.Contains(diags[0].Detail, "package mypolicies is not under fabrica.<area>.<name>") {
		t.Errorf("diags = %+v", diags)
	}
}

func TestCheck_ruleErrors(t *testing.T) {
	plan := []byte(`{"format_version": "1.0", "resource_changes": [{"address": "storage.s", "kind": "storage", "action": "create", "after": {}}]}`)
	for name, tc := range map[string]struct{ bundle, want string }{
		"conflict": {"testdata/eval-error", "policy rule custom.conflict.deny (testdata/eval-error/conflict.rego:"},
		"shape":    {"testdata/bad-shape", `policy rule custom.shape.deny (testdata/bad-shape/shape.rego:3) failed: it returned {"message_typo":"oops"}`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := load(t, Options{Bundles: []string{tc.bundle}}).Check(context.Background(), plan)
			var ee *EvalError
			if !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want an EvalError containing %q", err, tc.want)
			}
		})
	}
}

func TestCheck_timeComesFromOptions(t *testing.T) {
	plan := []byte(`{"format_version": "1.0", "resource_changes": [{"address": "dr_site.d", "kind": "dr_site", "action": "create",
		"after": {"primary": "facility.a", "secondary": "facility.b", "distance_km": 500, "encrypt_in_transit": true,
		"drill": {"interval_days": 90, "last": "2026-10-01"}}}]}`)
	for _, tc := range []struct {
		now  time.Time
		want int
	}{{checkTime, 0}, {time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC), 1}} {
		e := load(t, Options{Now: func() time.Time { return tc.now }})
		r, err := e.Check(context.Background(), plan)
		if err != nil {
			t.Fatal(err)
		}
		if r.Counts().Deny != tc.want || !r.CheckedAt.Equal(tc.now) {
			t.Errorf("at %v: %d denies, want %d", tc.now, r.Counts().Deny, tc.want)
		}
	}
}

func TestRunTests_userDir(t *testing.T) {
	rep, diags := RunTests(context.Background(), []string{"testdata/user-tests"}, false)
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	got := map[string]TestStatus{}
	for _, r := range rep.Results {
		got[r.Name] = r.Status
		if r.Name == "test_fails" && r.FailedAt != "testdata/user-tests/rule_test.rego:10: count(rule.deny) == 1 with input as {\"flag\": false}" {
			t.Errorf("FailedAt = %q", r.FailedAt)
		}
	}
	want := map[string]TestStatus{"test_passes": TestPass, "test_fails": TestFail, "test_errors": TestError, "test_uses_builtin_lib": TestPass}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if !rep.Failed() || rep.Counts() != (TestCounts{Pass: 2, Fail: 1, Error: 1}) {
		t.Errorf("counts = %+v", rep.Counts())
	}
	if _, diags := RunTests(context.Background(), []string{"testdata/bad-syntax"}, false); !diags.HasErrors() ||
		diags[0].Subject == nil || diags[0].Subject.Filename != "testdata/bad-syntax/broken.rego" {
		t.Errorf("syntax error diags = %+v", diags)
	}
}

func TestDefaultParams(t *testing.T) {
	p := DefaultParams()
	if p["pue_deny"] == nil || p["dr_min_distance_km"] == nil {
		t.Errorf("DefaultParams() = %v", p)
	}
	e := load(t, Options{Params: map[string]any{"rack_density_kw": map[string]any{"air": map[string]any{"warn": 15}}}})
	air := e.Params()["rack_density_kw"].(map[string]any)["air"].(map[string]any)
	if air["warn"] != 15.0 && air["warn"] != any(json.Number("15")) {
		t.Errorf("air.warn = %#v", air["warn"])
	}
	if air["deny"] == nil {
		t.Error("merging an object param dropped the default air.deny")
	}
}

func TestCheck_booleanRule(t *testing.T) {
	e := load(t, Options{Bundles: []string{"testdata/bool-rule"}})
	for flag, want := range map[string]int{"true": 1, "false": 0} {
		r, err := e.Check(context.Background(), []byte(`{"format_version": "1.0", "resource_changes": [], "flag": `+flag+`}`))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Findings) != want {
			t.Fatalf("flag %s: %+v", flag, r.Findings)
		}
		if want == 1 && (r.Findings[0].Message != "The flag must not be set" || r.Findings[0].Severity != Deny || r.Findings[0].RuleID != "custom.flag.violation") {
			t.Errorf("finding = %+v", r.Findings[0])
		}
	}
}
