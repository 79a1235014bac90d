package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this test binary as the fabrica command, so every script
// drives the real CLI in its own process.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fabrica": func() {
			if code, ok := command.MaybeServe(os.Args[1:]); ok {
				os.Exit(code)
			}
			os.Exit(command.Main(os.Args[1:], command.SystemStreams()))
		},
		// An external provider that crashes on its third change, for the fault tests.
		"fabrica-provider-crashy": serveCrashyProvider,
	})
}

// TestScripts runs testdata/script/*.txtar. $EXAMPLES points at the repository's
// examples, which scripts copy before changing.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	trainerDir := buildTrainer(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			env.Setenv("NO_COLOR", "1")
			env.Setenv("PATH", trainerDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			return nil
		},
		RequireExplicitExec: true,
	})
}

// buildTrainer builds examples/trainer, the training program jobs run, into a directory
// that scripts put on PATH.
func buildTrainer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "trainer"), "../../examples/trainer").CombinedOutput()
	if err != nil {
		t.Fatalf("building the trainer: %v\n%s", err, out)
	}
	return dir
}
