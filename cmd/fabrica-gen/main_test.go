package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/schema"
)

func TestRun_writesValidConfiguration(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-nodes", "300", "-style", "node", "-racks-per-facility", "40", "-out", dir}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Wrote 2 files") || !strings.Contains(stdout.String(), "300 dgx-h100 nodes (2400 GPUs)") {
		t.Errorf("stdout = %q", stdout.String())
	}
	cfg, diags := schema.LoadDir(dir)
	if !diags.HasErrors() {
		_, diags = planner.Evaluate(cfg, planner.InputVars{})
	}
	if len(diags) > 0 {
		t.Fatalf("the written configuration has diagnostics: %v", diags[0])
	}
}

func TestRun_refusesNonEmptyDirUnlessForced(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-nodes", "100", "-racks-per-facility", "10", "-out", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"-nodes", "10", "-out", dir}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "not empty") {
		t.Fatalf("second run without -force: exit %d, stderr %q; want 1 and a message", code, stderr.String())
	}
	keep := filepath.Join(dir, "README")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"-nodes", "10", "-out", dir, "-force"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run with -force: exit %d: %s", code, stderr.String())
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"+schema.SuffixHCL))
	if len(names) != 1 {
		t.Errorf("after -force the directory holds %d configuration files, want 1 (stale ones removed): %v", len(names), names)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("-force removed a file that is not configuration: %v", err)
	}
}

func TestRun_badFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-out", "x"}, "-nodes must be at least 1"},
		{[]string{"-nodes", "10"}, "-out DIR is required"},
		{[]string{"-nodes", "10", "-out", "x", "-style", "rack"}, `unknown style "rack"`},
		{[]string{"-nodes", "10", "-out", "x", "-device-type", "gb200-nvl72"}, "use one of dgx-b200, dgx-h100, dgx-h200"},
		{[]string{"-nodes", "10", "-out", "x", "-nodes-per-rack", "0"}, "-nodes-per-rack must be at least 1"},
		{[]string{"-nodes", "10", "-out", "x", "-nodes-per-rack", "20"}, "lower -nodes-per-rack"},
		{[]string{"-nodes", "10", "-out", "x", "extra"}, `unexpected argument "extra"`},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("run(%q) = %d, stderr %q; want an error containing %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
