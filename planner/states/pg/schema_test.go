package pg

import (
	"strings"
	"sync"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/states"
)

// TestMigrations starts eight backends at once on an empty schema: one creates the
// tables, the others wait and find them; later starts change nothing.
func TestMigrations(t *testing.T) {
	schema := newSchema(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			b, err := New(ctx, Config{ConnString: testConn(t), Schema: schema})
			if err != nil {
				t.Error(err)
				return
			}
			b.Close()
		})
	}
	wg.Wait()
	if n := count(t, "SELECT count(*) FROM "+schema+".schema_migrations"); n != SchemaVersion {
		t.Errorf("%d migrations recorded, want %d", n, SchemaVersion)
	}
	b := open(t, schema, "default")
	id, _ := b.Lock(ctx, states.NewLockInfo("apply"))
	s := states.NewState()
	s.Put(newInstance("hardware.a"))
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	b.Unlock(ctx, id)
	// Idempotent: another start keeps the data and records nothing new.
	if got := loadFresh(t, b); got.Len() != 1 {
		t.Errorf("state after a second start: %v", got.Addresses())
	}
	if n := count(t, "SELECT count(*) FROM "+schema+".schema_migrations"); n != SchemaVersion {
		t.Errorf("%d migrations recorded after restarts", n)
	}
	// A schema from a newer fabrica is refused.
	sql(t, "INSERT INTO "+schema+".schema_migrations (version) VALUES (999)")
	if _, err := New(ctx, Config{ConnString: testConn(t), Schema: schema}); err == nil || !strings.Contains(err.Error(), "version 999, newer than this fabrica knows") {
		t.Errorf("New on a newer schema = %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{ConnString: "postgres://x", Schema: "Bad-Name"}, "invalid schema_name"},
		{Config{ConnString: "postgres://x", Workspace: "a/b"}, "invalid workspace name"},
		{Config{ConnString: "host=127.0.0.1 port=1 connect_timeout=2"}, "cannot be reached"},
	} {
		if _, err := New(ctx, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}
}
