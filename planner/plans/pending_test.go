package plans

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states/crypt"
)

func pendingTestPlan() *Plan {
	p := &Plan{FormatVersion: FormatVersion, Mode: ModeNormal, Lineage: "l", ConfigHash: "h"}
	for i := range 3 * encodeChunk {
		p.ResourceChanges = append(p.ResourceChanges, &ResourceChange{Address: fmt.Sprintf("hardware.n[%d]", i),
			Kind: "hardware", Name: "n", Index: i, Provider: "sim", Action: Create, After: json.RawMessage(`{"rack":"r"}`)})
	}
	return p
}

// A plan file written in two steps, with the findings and diagnostics set in between,
// is byte for byte the one WriteFile writes of the finished plan; the file at the path
// is replaced only by Finish.
func TestPendingFile(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("kept=%v", keep), func(t *testing.T) {
			dir := t.TempDir()
			p := pendingTestPlan()
			if keep { // as plan does: the policy input is encoded first
				p.KeepEncoding()
				if err := Encode(&bytes.Buffer{}, Redact(p)); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, "p.plan")
			if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			pf := StartFile(path, p, nil)
			p.Policy = json.RawMessage(`{"findings":[]}`)
			p.Diagnostics = []Diagnostic{{Severity: "warning", Summary: "s"}}
			// Wait for the first part to be on its way (a second file, the pending one),
			// then check the old file is still there.
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if entries, _ := os.ReadDir(dir); len(entries) == 2 {
					break
				}
			}
			if got, _ := os.ReadFile(path); string(got) != "old" {
				t.Fatal("the file was replaced before Finish")
			}
			if err := pf.Finish(); err != nil {
				t.Fatal(err)
			}
			pf.Abort() // after Finish: nothing, and no hang
			if err := pf.Finish(); err != nil {
				t.Errorf("Finish again: %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(dir, "want.plan")
			if err := WriteFile(want, p, nil); err != nil {
				t.Fatal(err)
			}
			if w, _ := os.ReadFile(want); !bytes.Equal(got, w) {
				t.Error("the file written in two steps differs from WriteFile's")
			}
			back, err := ReadFile(path, nil)
			if err != nil || len(back.ResourceChanges) != len(p.ResourceChanges) || len(back.Diagnostics) != 1 {
				t.Errorf("reading it back: %v", err)
			}
		})
	}
}

// Abort leaves the file at the path as it was and nothing else behind.
func TestPendingFileAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.plan")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	pf := StartFile(path, pendingTestPlan(), nil)
	var wg sync.WaitGroup
	wg.Go(pf.Abort) // as a signal handler would
	wg.Wait()
	pf.Abort()
	if err := pf.Finish(); err == nil {
		t.Error("Finish after Abort wrote the file")
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("the file is %q after Abort", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory after Abort, want 1", len(entries))
	}
}

// A file that cannot be created is an error from Finish (and Abort does not hang).
func TestPendingFileCannotWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "p.plan")
	err := StartFile(path, pendingTestPlan(), nil).Finish()
	if err == nil || !strings.Contains(err.Error(), "cannot write the plan file "+path+": the directory "+filepath.Dir(path)+" does not exist") {
		t.Errorf("Finish into a directory that does not exist: %v", err)
	}
	if err := WriteFile(path, pendingTestPlan(), nil); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("WriteFile into a directory that does not exist: %v", err)
	}
	StartFile(path, pendingTestPlan(), nil).Abort()
}

// An encrypted plan is sealed whole by Finish, and reads back with the key.
func TestPendingFileEncrypted(t *testing.T) {
	k, err := crypt.NewKeyring(crypt.KeySource{Key: crypt.GenerateKey()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p.plan")
	p := pendingTestPlan()
	pf := StartFile(path, p, k)
	p.Policy = json.RawMessage(`{"findings":[]}`)
	if err := pf.Finish(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if !crypt.IsEncrypted(raw) {
		t.Fatal("the plan file is not encrypted")
	}
	back, err := ReadFile(path, k)
	if err != nil || len(back.ResourceChanges) != len(p.ResourceChanges) || string(back.Policy) != `{"findings":[]}` {
		t.Errorf("reading it back: %v", err)
	}
}
