package pg

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/jackc/pgx/v5"
)

// Workspaces: a workspace is a row of the states table. The default workspace always
// exists, with or without a row; the first write to a workspace creates its row.

// List returns the workspaces of the Backend's schema: "default" first, then the
// others sorted.
func (b *Backend) List(ctx context.Context) ([]string, error) {
	rows, err := b.pool.Query(ctx, "SELECT workspace FROM "+b.q.schema+".states ORDER BY workspace")
	if err != nil {
		return nil, b.dbError("listing workspaces", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, b.dbError("listing workspaces", err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == states.DefaultWorkspace })
	return append([]string{states.DefaultWorkspace}, names...), nil
}

// Create adds a workspace with an empty state.
func (b *Backend) Create(ctx context.Context, name string) error {
	if err := states.ValidateWorkspaceName(name); err != nil {
		return err
	}
	if name == states.DefaultWorkspace {
		return fmt.Errorf("workspace %q: %w", name, states.ErrWorkspaceExists)
	}
	tag, err := b.pool.Exec(ctx, b.q.ensureState, name)
	if err != nil {
		return b.dbError("creating workspace "+name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("workspace %q: %w", name, states.ErrWorkspaceExists)
	}
	return nil
}

// Delete removes a workspace with its state and lock row, under the workspace's lock
// (so not while anyone writes to it). See states.Workspaces.
func (b *Backend) Delete(ctx context.Context, name string, force bool) error {
	if err := states.ValidateWorkspaceName(name); err != nil {
		return err
	}
	if name == states.DefaultWorkspace {
		return errors.New("the default workspace cannot be deleted")
	}
	other := &Backend{cfg: b.cfg, connCfg: b.connCfg, pool: b.pool, ws: name, q: b.q, seed: b.seed,
		lockKey: advisoryKey("state", b.cfg.Schema, name)}
	var exists bool
	if err := b.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+b.q.schema+".states WHERE workspace = $1)", name).Scan(&exists); err != nil {
		return b.dbError("deleting workspace "+name, err)
	}
	if !exists {
		return fmt.Errorf("workspace %q: %w", name, states.ErrWorkspaceNotFound)
	}
	id, err := other.Lock(ctx, states.NewLockInfo("workspace delete"))
	if err != nil {
		return fmt.Errorf("deleting workspace %q: %w", name, err)
	}
	ls := other.lock
	defer other.Unlock(context.WithoutCancel(ctx), id)
	if !force {
		var n int
		if err := ls.conn.QueryRow(ctx, "SELECT count(*) FROM "+b.q.schema+".instances WHERE workspace = $1", name).Scan(&n); err != nil {
			return b.dbError("deleting workspace "+name, err)
		}
		if n > 0 {
			return &states.WorkspaceNotEmptyError{Name: name, Instances: n}
		}
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	batch := &pgx.Batch{}
	batch.Queue(b.q.deleteAll, name)
	batch.Queue("DELETE FROM "+b.q.schema+".states WHERE workspace = $1", name)
	batch.Queue("DELETE FROM "+b.q.schema+".locks WHERE workspace = $1", name)
	if err := ls.conn.SendBatch(ctx, batch).Close(); err != nil {
		return b.dbError("deleting workspace "+name, err)
	}
	return nil
}
