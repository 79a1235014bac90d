package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states/local"
	"github.com/fabrica-iac/fabrica/planner/states/statefile"
	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/plugin"
	"github.com/fabrica-iac/fabrica/providers/providertest"
	"github.com/fabrica-iac/fabrica/providers/sim"
)

// fabricaBin returns a link named fabrica to this test binary, which TestMain runs as
// the real CLI.
func fabricaBin(t *testing.T) string {
	t.Helper()
	return linkAs(t, t.TempDir(), "fabrica")
}

func linkAs(t *testing.T, dir, name string) string {
	t.Helper()
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, name)
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	return link
}

func run(t *testing.T, bin, dir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

const faultConfig = `
provider "sim" {
  latency = "%s"
}

facility "f" {
  it_power_kw = 200
  design_pue  = 1.2
}

hardware "n" {
  count       = %d
  facility    = facility.f
  device_type = "cpu-server"
  rack        = "r${count.index %% 4}"
}

fabric "lan" {
  facility  = facility.f
  transport = "ethernet"
  endpoints = hardware.n
}
`

func writeConfig(t *testing.T, dir, latency string, nodes int) {
	t.Helper()
	src := fmt.Sprintf(faultConfig, latency, nodes)
	if err := os.WriteFile(filepath.Join(dir, "main.fab.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFault_sigkillDuringApply kills fabrica at random points of an apply, checks the
// state is readable after every kill, then lets an apply finish and checks that state
// and world agree, with no duplicate objects.
func TestFault_sigkillDuringApply(t *testing.T) {
	bin, dir := fabricaBin(t), t.TempDir()
	writeConfig(t, dir, "40ms", 24)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("seed %d", seed)
	statePath := filepath.Join(dir, ".fabrica", "state.json")
	for round := range 6 {
		cmd := exec.Command(bin, "-C", dir, "apply", "--auto-approve", "--parallelism", "4")
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(30+rng.IntN(250)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		if data, err := os.ReadFile(statePath); err == nil {
			if _, err := statefile.Parse(data); err != nil {
				t.Fatalf("round %d: state file unreadable after SIGKILL: %v", round, err)
			}
		}
		if _, err := local.New(statePath).Load(context.Background()); err != nil {
			t.Fatalf("round %d: state (with journal) unreadable after SIGKILL: %v", round, err)
		}
		// The next round changes the configuration, so the kills hit creates and deletes.
		if round == 3 {
			writeConfig(t, dir, "40ms", 16)
		}
	}
	out, code := run(t, bin, dir, "apply", "--auto-approve")
	if code != 0 {
		t.Fatalf("final apply exit %d:\n%s", code, out)
	}
	if out, code := run(t, bin, dir, "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after convergence exit %d:\n%s", code, out)
	}
	st, err := local.New(statePath).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	world, err := sim.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, o := range world {
		if prev, dup := seen[o.Address]; dup {
			t.Errorf("duplicate objects for %s: %s and %s", o.Address, prev, o.ID)
		}
		seen[o.Address] = o.ID
	}
	if st.Len() != len(world) || st.Len() != 18 {
		t.Errorf("state has %d instances, world %d objects; want 18 each", st.Len(), len(world))
	}
	for inst := range st.Instances() {
		if seen[inst.Address] != inst.ID {
			t.Errorf("%s: state ID %s, world ID %q", inst.Address, inst.ID, seen[inst.Address])
		}
	}
}

// TestFault_concurrentApplies: the second writer is refused with the lock message.
func TestFault_concurrentApplies(t *testing.T) {
	bin, dir := fabricaBin(t), t.TempDir()
	writeConfig(t, dir, "300ms", 4)
	first := exec.Command(bin, "-C", dir, "apply", "--auto-approve")
	var firstOut bytes.Buffer
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	lockInfo := filepath.Join(dir, ".fabrica", "state.json.lock.info")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(lockInfo); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first apply never took the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, code := run(t, bin, dir, "apply", "--auto-approve")
	if code != 1 || !strings.Contains(out, "state is locked by") || !strings.Contains(out, "lock id") {
		t.Errorf("second apply: exit %d, want 1 with the lock message:\n%s", code, out)
	}
	// Read-only commands do not need the lock.
	if out, code := run(t, bin, dir, "state", "list"); code != 0 {
		t.Errorf("state list during apply: exit %d\n%s", code, out)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first apply: %v\n%s", err, firstOut.String())
	}
}

// TestFault_providerCrash: a provider that dies mid-apply is named with the resources it
// had in flight, and state keeps what finished.
func TestFault_providerCrash(t *testing.T) {
	bin, dir := fabricaBin(t), t.TempDir()
	plugins := filepath.Join(dir, ".fabrica", "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	linkAs(t, plugins, "fabrica-provider-crashy")
	src := `
facility "f" {
  it_power_kw = 50
  design_pue  = 1.2
}
hardware "n" {
  count       = 3
  provider    = crashy
  facility    = facility.f
  device_type = "cpu-server"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.fab.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, bin, dir, "apply", "--auto-approve", "--parallelism", "1")
	if code != 1 {
		t.Fatalf("apply exit %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, `provider "crashy" failed while applying hardware.n[2]`) || !strings.Contains(out, "exited unexpectedly") {
		t.Errorf("the error does not name provider, resource and crash:\n%s", out)
	}
	list, _ := run(t, bin, dir, "state", "list")
	for _, want := range []string{"facility.f", "hardware.n[0]", "hardware.n[1]"} {
		if !strings.Contains(list, want+"\n") {
			t.Errorf("state lost %s after the crash:\n%s", want, list)
		}
	}
	if strings.Contains(list, "hardware.n[2]") {
		t.Errorf("state holds the instance whose provider crashed:\n%s", list)
	}
}

// TestFault_corruptState: a clear error, and the file is never overwritten.
func TestFault_corruptState(t *testing.T) {
	bin, dir := fabricaBin(t), t.TempDir()
	writeConfig(t, dir, "0s", 2)
	statePath := filepath.Join(dir, ".fabrica", "state.json")
	if err := os.MkdirAll(filepath.Dir(statePath), 0o755); err != nil {
		t.Fatal(err)
	}
	garbage := []byte(`{"format_version": 1, "serial": 3, "resources": [ {"address": "hardware.n[0]",`)
	if err := os.WriteFile(statePath, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"plan"}, {"apply", "--auto-approve"}, {"state", "list"}} {
		out, code := run(t, bin, dir, args...)
		if code != 1 || !strings.Contains(out, "state.json") {
			t.Errorf("%v: exit %d, want 1 with an error naming the file:\n%s", args, code, out)
		}
		if data, _ := os.ReadFile(statePath); !bytes.Equal(data, garbage) {
			t.Fatalf("%v overwrote the corrupt state file", args)
		}
	}
}

// serveCrashyProvider serves a fake provider whose process exits on its third change.
func serveCrashyProvider() {
	plugin.Serve(&crashy{Fake: providertest.New()})
}

type crashy struct {
	*providertest.Fake
	n atomic.Int32
}

func (c *crashy) Apply(ctx context.Context, changes <-chan providers.Change, events chan<- providers.Event) error {
	in := make(chan providers.Change)
	go func() {
		defer close(in)
		for ch := range changes {
			if c.n.Add(1) == 3 {
				os.Exit(3)
			}
			in <- ch
		}
	}()
	return c.Fake.Apply(ctx, in, events)
}
