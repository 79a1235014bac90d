package format

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	messy = "a = 1\nbbb = 2\n"
	tidy  = "a   = 1\nbbb = 2\n"
)

// writeTree creates files (slash-separated relative paths) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree returns every file under dir, keyed by slash-separated relative path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := make(map[string]string)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func resultPaths(results []Result) []string {
	var paths []string
	for _, r := range results {
		paths = append(paths, r.Path)
	}
	return paths
}

func TestRunFileSelection(t *testing.T) {
	tree := map[string]string{
		"main.fab.hcl":             messy,
		"ok.fab.hcl":               tidy,
		"vars.fab.json":            "{\"a\":   1}\n",
		"notes.hcl":                messy,
		".hidden.fab.hcl":          messy,
		"mod/b.fab.hcl":            messy,
		"mod/deep/c.fab.hcl":       messy,
		".fabrica/cache.fab.hcl":   messy,
		".git/x.fab.hcl":           messy,
		"testdata/fixture.fab.hcl": messy,
	}
	tests := []struct {
		name      string
		paths     []string
		recursive bool
		want      []string
	}{
		{
			name:  "default path, not recursive",
			paths: nil,
			want:  []string{"main.fab.hcl"},
		},
		{
			name:      "recursive skips hidden dirs and testdata",
			paths:     []string{"."},
			recursive: true,
			want:      []string{"main.fab.hcl", "mod/b.fab.hcl", "mod/deep/c.fab.hcl"},
		},
		{
			name:  "subdirectory, not recursive",
			paths: []string{"mod"},
			want:  []string{"mod/b.fab.hcl"},
		},
		{
			name:  "explicit file with any name is formatted",
			paths: []string{"notes.hcl", "testdata/fixture.fab.hcl"},
			want:  []string{"notes.hcl", "testdata/fixture.fab.hcl"},
		},
		{
			name:  "explicit hidden directory is scanned",
			paths: []string{".fabrica"},
			want:  []string{".fabrica/cache.fab.hcl"},
		},
		{
			name:      "file reached twice is reported once, lexical order",
			paths:     []string{"mod", "main.fab.hcl", "./main.fab.hcl"},
			recursive: true,
			want:      []string{"main.fab.hcl", "mod/b.fab.hcl", "mod/deep/c.fab.hcl"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tree)
			t.Chdir(dir)
			results, diags, err := Run(Options{Paths: tt.paths, Recursive: tt.recursive, Check: true})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(diags) > 0 {
				t.Fatalf("Run: unexpected diagnostics: %s", diags.Error())
			}
			var want []string
			for _, p := range tt.want {
				want = append(want, filepath.FromSlash(p))
			}
			if diff := cmp.Diff(want, resultPaths(results)); diff != "" {
				t.Errorf("changed files mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tree, readTree(t, dir)); diff != "" {
				t.Errorf("check mode changed files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      Options
		wantFiles map[string]string
	}{
		{
			name:      "check writes nothing",
			opts:      Options{Check: true},
			wantFiles: map[string]string{"a.fab.hcl": messy, "b.fab.hcl": tidy},
		},
		{
			name:      "check wins over write",
			opts:      Options{Check: true, Write: true},
			wantFiles: map[string]string{"a.fab.hcl": messy, "b.fab.hcl": tidy},
		},
		{
			name:      "neither check nor write only lists",
			opts:      Options{},
			wantFiles: map[string]string{"a.fab.hcl": messy, "b.fab.hcl": tidy},
		},
		{
			name:      "write formats in place",
			opts:      Options{Write: true},
			wantFiles: map[string]string{"a.fab.hcl": tidy, "b.fab.hcl": tidy},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"a.fab.hcl": messy, "b.fab.hcl": tidy})
			opts := tt.opts
			opts.Paths = []string{dir}
			results, diags, err := Run(opts)
			if err != nil || len(diags) > 0 {
				t.Fatalf("Run: err=%v diags=%v", err, diags)
			}
			want := []Result{{Path: filepath.Join(dir, "a.fab.hcl")}}
			if diff := cmp.Diff(want, results); diff != "" {
				t.Errorf("results mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFiles, readTree(t, dir)); diff != "" {
				t.Errorf("files mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunWriteKeepsModeAndSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "exec.fab.hcl")
	writeTree(t, dir, map[string]string{"exec.fab.hcl": messy})
	if err := os.Chmod(path, 0o740); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.fab.hcl")
	if err := os.Symlink("exec.fab.hcl", link); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}

	results, diags, err := Run(Options{Paths: []string{link}, Write: true})
	if err != nil || len(diags) > 0 {
		t.Fatalf("Run: err=%v diags=%v", err, diags)
	}
	if diff := cmp.Diff([]string{link}, resultPaths(results)); diff != "" {
		t.Errorf("results mismatch (-want +got):\n%s", diff)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o740 {
		t.Errorf("mode after write = %v, want %v", got, fs.FileMode(0o740))
	}
	if linfo, err := os.Lstat(link); err != nil || linfo.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("symlink was replaced: %v, %v", linfo, err)
	}
	if diff := cmp.Diff(map[string]string{"exec.fab.hcl": tidy, "link.fab.hcl": tidy}, readTree(t, dir)); diff != "" {
		t.Errorf("files mismatch (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

func TestRunSyntaxErrorDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := "a = 1\nb {\n  c = \n}\n"
	writeTree(t, dir, map[string]string{
		"a.fab.hcl":   messy,
		"bad.fab.hcl": bad,
		"z.fab.hcl":   messy,
	})
	results, diags, err := Run(Options{Paths: []string{dir}, Write: true})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{filepath.Join(dir, "a.fab.hcl"), filepath.Join(dir, "z.fab.hcl")}
	if diff := cmp.Diff(want, resultPaths(results)); diff != "" {
		t.Errorf("results mismatch (-want +got):\n%s", diff)
	}
	if !diags.HasErrors() {
		t.Fatal("Run: no diagnostics for the file with a syntax error")
	}
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Filename != filepath.Join(dir, "bad.fab.hcl") || d.Subject.Start.Line != 3 {
			t.Errorf("diagnostic %q at %v, want %s line 3", d.Summary, d.Subject, filepath.Join(dir, "bad.fab.hcl"))
		}
	}
	wantFiles := map[string]string{"a.fab.hcl": tidy, "bad.fab.hcl": bad, "z.fab.hcl": tidy}
	if diff := cmp.Diff(wantFiles, readTree(t, dir)); diff != "" {
		t.Errorf("files mismatch (-want +got):\n%s", diff)
	}
}

func TestRunDiffGolden(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"conf/main.fab.hcl": "server \"web\" {\nname = \"web\"\n  instance_count = 2\n}\n",
	})
	t.Chdir(dir)
	results, diags, err := Run(Options{Paths: []string{"conf"}, Diff: true, Check: true})
	if err != nil || len(diags) > 0 {
		t.Fatalf("Run: err=%v diags=%v", err, diags)
	}
	want := []Result{{
		Path: filepath.Join("conf", "main.fab.hcl"),
		Diff: `--- a/conf/main.fab.hcl
+++ b/conf/main.fab.hcl
@@ -1,4 +1,4 @@
 server "web" {
-name = "web"
+  name           = "web"
   instance_count = 2
 }
`,
	}}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("results mismatch (-want +got):\n%s", diff)
	}
}

func TestRunNonexistentPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.fab.hcl": messy})
	missing := filepath.Join(dir, "nope.fab.hcl")
	results, _, err := Run(Options{Paths: []string{dir, missing}, Write: true})
	if err == nil {
		t.Fatalf("Run: no error for missing path; results %v", results)
	}
	if !strings.Contains(err.Error(), missing) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %q does not name %s as missing", err, missing)
	}
	if diff := cmp.Diff(map[string]string{"a.fab.hcl": messy}, readTree(t, dir), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("files changed before the path error (-want +got):\n%s", diff)
	}
}
