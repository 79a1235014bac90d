package pg

import (
	"errors"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/google/go-cmp/cmp"
)

func TestWorkspaces(t *testing.T) {
	schema := newSchema(t)
	ws := open(t, schema, "default")
	list := func() []string {
		t.Helper()
		l, err := ws.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if diff := cmp.Diff([]string{"default"}, list()); diff != "" {
		t.Errorf("List of a new schema (-want +got):\n%s", diff)
	}
	for _, n := range []string{"staging", "production"} {
		if err := ws.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := ws.Create(ctx, "staging"); !errors.Is(err, states.ErrWorkspaceExists) {
		t.Errorf("Create of an existing workspace = %v", err)
	}
	if err := ws.Create(ctx, "default"); !errors.Is(err, states.ErrWorkspaceExists) {
		t.Errorf("Create default = %v", err)
	}
	if err := ws.Create(ctx, "../x"); err == nil {
		t.Error("Create of an invalid name succeeded")
	}
	// Writing to default makes its row; it is listed once.
	d := open(t, schema, "default")
	did, _ := d.Lock(ctx, states.NewLockInfo("apply"))
	d.Persist(ctx, states.NewState())
	d.Unlock(ctx, did)
	if diff := cmp.Diff([]string{"default", "production", "staging"}, list()); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	s := states.NewState()
	s.Put(newInstance("hardware.a"))
	stg := open(t, schema, "staging")
	id, _ := stg.Lock(ctx, states.NewLockInfo("apply"))
	if err := stg.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Load(ctx); got.Len() != 0 {
		t.Error("the default workspace sees staging's state")
	}
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
	if n := count(t, "SELECT count(*) FROM "+schema+".instances WHERE workspace = 'staging'"); n != 0 {
		t.Errorf("%d instance rows left", n)
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
	if diff := cmp.Diff([]string{"default"}, list()); diff != "" {
		t.Errorf("List after deletes (-want +got):\n%s", diff)
	}
}
