package schema

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const referencePath = "../docs/language-reference.md"

// TestReference keeps docs/language-reference.md in step with the specs; run
// `make generate` (go test ./schema -run TestReference -update) after changing a kind.
func TestReference(t *testing.T) {
	var b bytes.Buffer
	WriteReference(&b)
	if *update {
		if err := os.WriteFile(referencePath, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v (run make generate)", err)
	}
	if !bytes.Equal(want, b.Bytes()) {
		t.Errorf("%s is out of date: run make generate", referencePath)
	}
}
