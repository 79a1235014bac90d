package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/planner/states"
)

// initializedBackend records, in .fabrica/backend.json, which backend init last
// prepared, so init --migrate-state knows where the state comes from. Credentials are
// not recorded: FABRICA_PG_CONN_STR or --backend-config must still give them.
type initializedBackend struct {
	Type       string `json:"type"`
	Path       string `json:"path,omitempty"`
	SchemaName string `json:"schema_name,omitempty"`
	HasConn    bool   `json:"has_conn_str,omitempty"`
}

func backendRecordPath(dir string) string { return filepath.Join(fabricaDir(dir), "backend.json") }

func recordBackend(dir string, bs *backendSettings) error {
	rec := initializedBackend{Type: bs.kind, Path: bs.path, SchemaName: bs.schema, HasConn: bs.connStr != ""}
	if bs.kind == "local" {
		rec.SchemaName = ""
	}
	b, _ := json.MarshalIndent(rec, "", "  ")
	return os.WriteFile(backendRecordPath(dir), append(b, '\n'), 0o644)
}

// migrateState moves the state from the backend recorded by the last init to the one
// now configured. fromConn is the previous pg connection string, when it was pg.
func migrateState(ctx context.Context, streams *views.Streams, p *project, force bool, fromConn string) error {
	data, err := os.ReadFile(backendRecordPath(p.dir))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("nothing to migrate: this directory was not initialized with another backend (run fabrica init first, change the backend, then fabrica init --migrate-state)")
	} else if err != nil {
		return err
	}
	var rec initializedBackend
	if err := json.Unmarshal(data, &rec); err != nil {
		return fmt.Errorf("%s is damaged: %w", backendRecordPath(p.dir), err)
	}
	from := &backendSettings{kind: rec.Type, path: rec.Path, schema: rec.SchemaName, workspace: p.settings.workspace,
		connStr: fromConn, keyring: p.settings.keyring}
	if from.kind == p.settings.kind && from.path == p.settings.path && from.schema == p.settings.schema && from.connStr == p.settings.connStr {
		fmt.Fprintln(streams.Out, "The backend did not change; nothing to migrate.")
		return nil
	}
	src, _, err := from.open(ctx)
	if err != nil {
		return fmt.Errorf("cannot open the previous %s backend: %w", from.kind, err)
	}
	if c, ok := src.(interface{ Close() error }); ok {
		defer c.Close()
	}
	if err := states.Migrate(ctx, src, p.backend, force); err != nil {
		return err
	}
	fmt.Fprintf(streams.Out, "Migrated the state (workspace %q) from the %s backend to the %s backend.\n", p.settings.workspace, from.kind, p.settings.kind)
	return nil
}
