package policies

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
)

var update = flag.Bool("update", false, "rewrite golden files and formatted Rego")

// TestBundle runs every Rego test of the bundled policies with OPA's tester.
func TestBundle(t *testing.T) {
	rep, diags := RunTests(context.Background(), nil, true)
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	if len(rep.Results) == 0 {
		t.Fatal("no Rego tests ran")
	}
	for _, r := range rep.Results {
		switch r.Status {
		case TestFail:
			t.Errorf("%s:%d: %s.%s failed at %s", r.File, r.Line, r.Package, r.Name, r.FailedAt)
		case TestError:
			t.Errorf("%s:%d: %s.%s: %s", r.File, r.Line, r.Package, r.Name, r.Message)
		}
	}
	t.Logf("%+v", rep.Counts())
}

// TestBundle_everyPolicyHasTests checks that every policy file has a _test.rego.
func TestBundle_everyPolicyHasTests(t *testing.T) {
	fsys := BuiltinFS()
	files, _ := fs.Glob(fsys, "*/*.rego")
	for _, f := range files {
		if isTestFile(f) {
			continue
		}
		if _, err := fs.Stat(fsys, strings.TrimSuffix(f, ".rego")+"_test.rego"); err != nil {
			t.Errorf("%s has no _test.rego", f)
		}
	}
}

// TestBundle_formatted checks that the bundled Rego is formatted as `opa fmt` does;
// run with -update to rewrite it.
func TestBundle_formatted(t *testing.T) {
	files, _ := filepath.Glob("bundle/*/*.rego")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := format.SourceWithOpts(f, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !bytes.Equal(got, src) {
			if *update {
				if err := os.WriteFile(f, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("%s is not formatted as opa fmt does; run go test ./policies -run TestBundle_formatted -update", f)
		}
	}
}

// TestBundle_documented checks that bundle/README.md lists every bundled rule id and
// parameter, and nothing else.
func TestBundle_documented(t *testing.T) {
	doc, err := os.ReadFile("bundle/README.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| `") {
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
			listed[name] = true
		}
	}
	e, diags := Load(context.Background(), Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	want := map[string]bool{}
	for _, r := range e.Rules() {
		want[r.ID] = true
	}
	for p := range DefaultParams() {
		want[p] = true
	}
	for name := range want {
		if !listed[name] {
			t.Errorf("bundle/README.md does not list %s", name)
		}
	}
	for name := range listed {
		if !want[name] {
			t.Errorf("bundle/README.md lists %s, which is no rule or parameter", name)
		}
	}
}
