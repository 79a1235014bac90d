package local

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/google/go-cmp/cmp"
)

func TestWorkspaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".fabrica", "state.json")
	ws := NewWorkspaces(path)
	list := func() []string {
		t.Helper()
		l, err := ws.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if diff := cmp.Diff([]string{"default"}, list()); diff != "" {
		t.Errorf("List of a new configuration (-want +got):\n%s", diff)
	}
	for _, n := range []string{"staging", "production", "a.b-c_1"} {
		if err := ws.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"default", "a.b-c_1", "production", "staging"}, list()); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if err := ws.Create(ctx, "staging"); !errors.Is(err, states.ErrWorkspaceExists) {
		t.Errorf("Create of an existing workspace = %v", err)
	}
	if err := ws.Create(ctx, "default"); !errors.Is(err, states.ErrWorkspaceExists) {
		t.Errorf("Create default = %v", err)
	}
	for _, bad := range []string{"", "../x", "a/b", "-x", ".x", "x y"} {
		if err := ws.Create(ctx, bad); err == nil {
			t.Errorf("Create(%q) succeeded", bad)
		}
	}

	// Each workspace has its own state.
	if got := WorkspacePath(path, "staging"); got != filepath.Join(filepath.Dir(path), "workspaces", "staging", "state.json") {
		t.Errorf("WorkspacePath = %s", got)
	}
	if WorkspacePath(path, "default") != path {
		t.Error("the default workspace is not the configured path")
	}
	s := states.NewState()
	s.Put(newInstance("hardware.a"))
	stg := New(WorkspacePath(path, "staging"))
	id, _ := stg.Lock(ctx, states.NewLockInfo("apply"))
	if err := stg.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got, _ := New(path).Load(ctx); got.Len() != 0 {
		t.Error("the default workspace sees staging's state")
	}

	// Delete refuses a locked workspace, then a non-empty one without force.
	var le *states.LockedError
	if err := ws.Delete(ctx, "staging", true); !errors.As(err, &le) {
		t.Errorf("Delete of a locked workspace = %v", err)
	}
	stg.Unlock(ctx, id)
	var ne *states.WorkspaceNotEmptyError
	if err := ws.Delete(ctx, "staging", false); !errors.As(err, &ne) || ne.Instances != 1 {
		t.Errorf("Delete of a non-empty workspace = %v", err)
	}
	if err := ws.Delete(ctx, "staging", true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(WorkspacePath(path, "staging"))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("workspace directory left: %v", err)
	}
	if err := ws.Delete(ctx, "production", false); err != nil {
		t.Errorf("Delete of an empty workspace = %v", err)
	}
	if err := ws.Delete(ctx, "staging", false); !errors.Is(err, states.ErrWorkspaceNotFound) {
		t.Errorf("Delete of a missing workspace = %v", err)
	}
	if err := ws.Delete(ctx, "default", true); err == nil {
		t.Error("Delete of the default workspace succeeded")
	}
	if diff := cmp.Diff([]string{"default", "a.b-c_1"}, list()); diff != "" {
		t.Errorf("List after deletes (-want +got):\n%s", diff)
	}
}
