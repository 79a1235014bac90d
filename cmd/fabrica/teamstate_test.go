package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/internal/pgtest"
	"github.com/fabrica-iac/fabrica/planner/states/statefile"
	"github.com/google/go-cmp/cmp"
)

const teamConfig = `
fabrica {
%s
}

facility "f" {
  it_power_kw = 50
  design_pue  = 1.2
}

hardware "n" {
  count       = 3
  facility    = facility.f
  device_type = "cpu-server"
}
`

func writeTeamConfig(t *testing.T, dir, settings string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "main.fab.hcl"), []byte(strings.Replace(teamConfig, "%s", settings, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRun(t *testing.T, bin, dir string, env []string, args ...string) string {
	t.Helper()
	out, code := runEnv(t, bin, dir, env, args...)
	if code != 0 {
		t.Fatalf("fabrica %v: exit %d\n%s", args, code, out)
	}
	return out
}

// TestWorkspaces_local: workspaces hold separate states of one configuration.
func TestWorkspaces_local(t *testing.T) {
	bin, dir := fabricaBin(t), t.TempDir()
	writeTeamConfig(t, dir, "")
	mustRun(t, bin, dir, nil, "apply", "--auto-approve")
	mustRun(t, bin, dir, nil, "workspace", "new", "staging")
	if out := mustRun(t, bin, dir, nil, "workspace", "show"); strings.TrimSpace(out) != "staging" {
		t.Fatalf("workspace show = %q", out)
	}
	if out := mustRun(t, bin, dir, nil, "plan"); !strings.Contains(out, "Plan: 4 to add") {
		t.Fatalf("a new workspace starts empty:\n%s", out)
	}
	if out := mustRun(t, bin, dir, nil, "workspace", "list"); out != "  default\n* staging\n" {
		t.Errorf("workspace list = %q", out)
	}
	mustRun(t, bin, dir, nil, "workspace", "select", "default")
	if _, code := runEnv(t, bin, dir, nil, "plan", "--detailed-exitcode"); code != 0 {
		t.Errorf("default workspace lost its state (plan exit %d)", code)
	}
	mustRun(t, bin, dir, nil, "workspace", "delete", "staging")
	if _, code := runEnv(t, bin, dir, nil, "workspace", "select", "staging"); code == 0 {
		t.Error("selected a deleted workspace")
	}
}

// TestMigrateState_localPgLocal moves a state local → pg → local through init
// --migrate-state and checks it round-trips: same lineage, serial and instances.
func TestMigrateState_localPgLocal(t *testing.T) {
	conn := pgtest.Conn(t)
	bin, dir := fabricaBin(t), t.TempDir()
	schemaName := fmt.Sprintf("cli_migrate_%d", time.Now().UnixNano())
	writeTeamConfig(t, dir, "")
	mustRun(t, bin, dir, nil, "init")
	mustRun(t, bin, dir, nil, "apply", "--auto-approve")
	before := mustRun(t, bin, dir, nil, "state", "pull")

	pgSettings := `  backend "pg" {
    schema_name = "` + schemaName + `"
  }`
	writeTeamConfig(t, dir, pgSettings)
	env := []string{"FABRICA_PG_CONN_STR=" + conn}
	mustRun(t, bin, dir, env, "init", "--migrate-state")
	if _, code := runEnv(t, bin, dir, env, "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan on pg after migration: exit %d", code)
	}
	onPg := mustRun(t, bin, dir, env, "state", "pull")

	writeTeamConfig(t, dir, "")
	mustRun(t, bin, dir, nil, "init", "--migrate-state", "--force", "--from-conn-str", conn)
	after := mustRun(t, bin, dir, nil, "state", "pull")
	for name, doc := range map[string]string{"pg": onPg, "local again": after} {
		a, err1 := statefile.Parse([]byte(before))
		b, err2 := statefile.Parse([]byte(doc))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", name, err1, err2)
		}
		if a.Lineage != b.Lineage || !a.SameContent(b) {
			t.Errorf("%s: the state changed in migration:\n%s", name, cmp.Diff(before, doc))
		}
	}
}
