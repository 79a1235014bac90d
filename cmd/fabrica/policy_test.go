package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/rego"
)

// copyExample copies examples/NAME (without .fabrica) into a temporary directory.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("..", "..", "examples", name)
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".fabrica" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func runEnv(t *testing.T, bin, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
		t.Logf("fabrica %v exited %d; stderr:\n%s", args, code, stderr.String())
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// TestPolicyViolations asserts the exact findings of examples/policy-violations: rule
// ids, severities, addresses, attributes and lines.
func TestPolicyViolations(t *testing.T) {
	bin, dir := fabricaBin(t), copyExample(t, "policy-violations")
	out, code := runEnv(t, bin, dir, []string{"FABRICA_NOW=2026-11-29"}, "policy", "check", "--format", "json")
	if code != 3 {
		t.Fatalf("policy check exit %d, want 3:\n%s", code, out)
	}
	var doc struct {
		Denied   bool `json:"denied"`
		Findings []struct {
			RuleID    string `json:"rule_id"`
			Severity  string `json:"severity"`
			Address   string `json:"address"`
			Attribute string `json:"attribute"`
			Range     struct {
				Filename string `json:"filename"`
				Start    struct{ Line int }
			} `json:"range"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got []string
	for _, f := range doc.Findings {
		got = append(got, strings.Join([]string{f.Severity, f.RuleID, f.Address, f.Attribute, f.Range.Filename, itoa(f.Range.Start.Line)}, " "))
	}
	want := []string{
		"deny security.oob_separation.deny facility.legacy  main.fab.hcl 5",
		"deny energy.power_headroom.deny facility.legacy it_power_kw main.fab.hcl 6",
		"deny energy.pue.deny facility.legacy design_pue main.fab.hcl 7",
		"deny energy.rack_density.deny facility.legacy rack_cooling main.fab.hcl 8",
		"warn security.tenant_isolation.warn fabric.compute isolation main.fab.hcl 19",
		"deny security.encryption_at_rest.deny storage.scratch encryption_at_rest main.fab.hcl 26",
		"deny security.encryption_in_transit.deny storage.scratch encryption_in_transit main.fab.hcl 26",
		"deny reliability.storage_protection.deny storage.scratch protection.replicas main.fab.hcl 35",
		"deny security.image_digest.deny training_job.pretrain image main.fab.hcl 49",
		"deny security.secrets.deny training_job.pretrain env main.fab.hcl 53",
		"deny reliability.checkpoint.deny training_job.pretrain checkpoint.interval_minutes main.fab.hcl 59",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	// plan exits 3 too, and apply stops before changing anything.
	if _, code := runEnv(t, bin, dir, nil, "plan"); code != 3 {
		t.Errorf("plan exit %d, want 3", code)
	}
	if _, code := runEnv(t, bin, dir, nil, "plan", "--policy=warn-only"); code != 0 {
		t.Errorf("plan --policy=warn-only exit %d, want 0", code)
	}
	if _, code := runEnv(t, bin, dir, nil, "apply", "--auto-approve"); code != 3 {
		t.Errorf("apply exit %d, want 3", code)
	}
	if _, err := os.Stat(filepath.Join(dir, ".fabrica", "sim-world.json")); err == nil {
		t.Error("apply changed the world although a policy denied")
	}
}

// TestGitOps runs the steps of examples/gitops' pipelines locally: plan with a markdown
// comment, findings as annotations and SARIF (validated against the 2.1.0 schema), the
// policy gate, and apply of the saved plan.
func TestGitOps(t *testing.T) {
	bin, root := fabricaBin(t), copyExample(t, "gitops")
	dir := filepath.Join(root, "infra")
	env := []string{"FABRICA_NOW=2026-11-29", "GITHUB_WORKSPACE=" + root}
	if out, code := runEnv(t, bin, dir, env, "init"); code != 0 {
		t.Fatalf("init: %d\n%s", code, out)
	}
	planFile := filepath.Join(root, "plan.fabrica")
	md, code := runEnv(t, bin, dir, env, "plan", "--policy=warn-only", "--out", planFile, "--format", "markdown")
	if code != 0 || !strings.Contains(md, "### fabrica plan") || !strings.Contains(md, "<details>") {
		t.Fatalf("markdown plan: exit %d\n%s", code, md)
	}
	gh, _ := runEnv(t, bin, dir, env, "policy", "check", planFile, "--format", "github")
	if !strings.Contains(gh, "::notice file=infra/main.fab.hcl,line=24,") || !strings.Contains(gh, "waived until 2027-06-30") {
		t.Errorf("github annotations lack the waived renewable-fraction finding on infra/main.fab.hcl:24:\n%s", gh)
	}
	sarif, _ := runEnv(t, bin, dir, env, "policy", "check", planFile, "--format", "sarif")
	validateSARIF(t, sarif)
	if out, code := runEnv(t, bin, dir, env, "policy", "check", planFile); code != 0 {
		t.Fatalf("policy gate: exit %d\n%s", code, out)
	}
	if out, code := runEnv(t, bin, dir, env, "apply", planFile); code != 0 || !strings.Contains(out, "Apply complete") {
		t.Fatalf("apply of the saved plan: exit %d\n%s", code, out)
	}
}

func validateSARIF(t *testing.T, doc string) {
	t.Helper()
	schemaPath := filepath.Join("..", "..", "policies", "report", "testdata", "sarif-2.1.0-rtm.5.json")
	schemaData, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var d, s any
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("SARIF is not JSON: %v\n%s", err, doc)
	}
	if err := json.Unmarshal(schemaData, &s); err != nil {
		t.Fatal(err)
	}
	rs, err := rego.New(rego.Query("x := json.match_schema(input.doc, input.schema)"),
		rego.Input(map[string]any{"doc": d, "schema": s})).Eval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res := rs[0].Bindings["x"].([]any)
	if ok, _ := res[0].(bool); !ok {
		t.Errorf("SARIF does not match the 2.1.0 schema: %v", res[1])
	}
	if !strings.Contains(doc, `"uri": "infra/main.fab.hcl"`) && !strings.Contains(doc, `"uri":"infra/main.fab.hcl"`) {
		t.Errorf("SARIF locations are not relative to the repository root:\n%s", doc)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
