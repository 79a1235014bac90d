package plugin

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiscover(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("execute bits")
	}
	work := t.TempDir()
	local := filepath.Join(work, ".fabrica", "plugins")
	extra := t.TempDir()
	rel := filepath.Join(work, "rel")
	write := func(dir, name string, mode os.FileMode) string {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	simLocal := write(local, "fabrica-provider-sim", 0o755)
	write(extra, "fabrica-provider-sim", 0o755) // shadowed by the local one
	slurm := write(extra, "fabrica-provider-slurm", 0o755)
	write(extra, "fabrica-provider-notexec", 0o644)
	write(extra, "fabrica-provider-", 0o755)
	write(extra, "fabrica-provider-bad.name", 0o755)
	write(extra, "other-tool", 0o755)
	if err := os.MkdirAll(filepath.Join(extra, "fabrica-provider-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	k8s := write(rel, "fabrica-provider-kubernetes", 0o755)
	link := filepath.Join(extra, "fabrica-provider-linked")
	if err := os.Symlink(slurm, link); err != nil {
		t.Fatal(err)
	}

	pathEnv := strings.Join([]string{filepath.Join(work, "missing"), "", extra, "rel"}, string(os.PathListSeparator))
	got, err := Discover(work, pathEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := []Found{
		{Name: "kubernetes", Path: k8s},
		{Name: "linked", Path: link},
		{Name: "sim", Path: simLocal},
		{Name: "slurm", Path: slurm},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Discover (-want +got):\n%s", diff)
	}

	// Nothing anywhere is no error.
	got, err = Discover(t.TempDir(), "")
	if err != nil || len(got) != 0 {
		t.Errorf("Discover of nothing = %v, %v", got, err)
	}
}
