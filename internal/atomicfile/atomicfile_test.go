package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite_replacesWholeFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := WriteBytes(path, 0o600, []byte("old")); err != nil {
		t.Fatal(err)
	}
	kept := false
	err := WriteKeeping(path, 0o640, func(f *os.File) error {
		_, err := io.WriteString(f, "new")
		return err
	}, func() error {
		got, _ := os.ReadFile(path)
		kept = string(got) == "old" // the old file is still in place when keep runs
		return nil
	})
	if err != nil || !kept {
		t.Fatalf("err %v, old file in place during keep: %v", err, kept)
	}
	got, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(got) != "new" || fi.Mode().Perm() != 0o640 {
		t.Errorf("file %q mode %v, want \"new\" 0640", got, fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// A failure while filling, or in keep, leaves the old file and no temporary file.
func TestWrite_failureLeavesOldFile(t *testing.T) {
	boom := errors.New("boom")
	for name, fail := range map[string][2]error{"fill": {boom, nil}, "keep": {nil, boom}} {
		dir := t.TempDir()
		path := filepath.Join(dir, "world.json")
		if err := WriteBytes(path, 0o644, []byte("old")); err != nil {
			t.Fatal(err)
		}
		err := WriteKeeping(path, 0o644, func(f *os.File) error {
			_, _ = io.WriteString(f, "half")
			return fail[0]
		}, func() error { return fail[1] })
		if !errors.Is(err, boom) {
			t.Errorf("%s: err = %v, want boom", name, err)
		}
		if got, _ := os.ReadFile(path); string(got) != "old" {
			t.Errorf("%s: file = %q, want old", name, got)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("%s: temporary files left: %v", name, entries)
		}
	}
}
