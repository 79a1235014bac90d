package pg

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrations are the schema versions in order: migrations[i] takes the schema from
// version i to i+1. They are forward-only: a released migration is never changed, a
// change is a new one appended. "{s}" stands for the quoted schema name.
var migrations = []string{
	// 1: a row per workspace, a row per resource instance, a row per held lock.
	`CREATE TABLE {s}.states (
		workspace       text PRIMARY KEY,
		lineage         text NOT NULL DEFAULT '',
		serial          bigint NOT NULL DEFAULT 0,
		generation      bigint NOT NULL DEFAULT 0,
		format_version  integer NOT NULL DEFAULT 1,
		fabrica_version text NOT NULL DEFAULT '',
		outputs         bytea,
		created_at      timestamptz NOT NULL DEFAULT now(),
		updated_at      timestamptz NOT NULL DEFAULT now()
	);
	COMMENT ON TABLE {s}.states IS 'fabrica: one row per workspace; serial and lineage version its state';
	CREATE TABLE {s}.instances (
		workspace text NOT NULL,
		address   text NOT NULL,
		data      bytea NOT NULL,
		PRIMARY KEY (workspace, address)
	);
	COMMENT ON TABLE {s}.instances IS 'fabrica: one row per resource instance, data is its state-file JSON (or a fabrica encryption envelope)';
	CREATE TABLE {s}.locks (
		workspace   text PRIMARY KEY,
		id          text NOT NULL,
		who         text NOT NULL,
		operation   text NOT NULL,
		created     timestamptz NOT NULL,
		pid         integer NOT NULL DEFAULT 0,
		backend_pid integer NOT NULL
	);
	COMMENT ON TABLE {s}.locks IS 'fabrica: who holds each workspace''s advisory lock; a row whose session is gone is stale'`,
}

// SchemaVersion is the version of the backend's tables this fabrica creates and uses.
var SchemaVersion = len(migrations)

// queries are the statements, with the schema filled in.
type queries struct {
	schema, head, instances, lockRow, upsertLock, deleteLock, ensureState, journal string
	upsert, deleteSome, deleteAll, updateHead, checkLock                           string
}

func newQueries(schema string) queries {
	s := pgx.Identifier{schema}.Sanitize()
	f := func(q string) string { return strings.ReplaceAll(q, "{s}", s) }
	return queries{
		schema:      s,
		head:        f(`SELECT lineage, serial, generation, format_version, fabrica_version, outputs FROM {s}.states WHERE workspace = $1`),
		instances:   f(`SELECT data FROM {s}.instances WHERE workspace = $1`),
		lockRow:     f(`SELECT id, who, operation, created, pid, backend_pid FROM {s}.locks WHERE workspace = $1`),
		ensureState: f(`INSERT INTO {s}.states (workspace) VALUES ($1) ON CONFLICT DO NOTHING`),
		upsertLock: f(`INSERT INTO {s}.locks (workspace, id, who, operation, created, pid, backend_pid)
			VALUES ($1, $2, $3, $4, $5, $6, pg_backend_pid())
			ON CONFLICT (workspace) DO UPDATE SET id = excluded.id, who = excluded.who, operation = excluded.operation,
				created = excluded.created, pid = excluded.pid, backend_pid = excluded.backend_pid`),
		deleteLock: f(`DELETE FROM {s}.locks WHERE workspace = $1 AND id = $2`),
		checkLock:  f(`SELECT count(*) FROM {s}.locks WHERE workspace = $1 AND id = $2 AND backend_pid = pg_backend_pid()`),
		upsert: f(`INSERT INTO {s}.instances (workspace, address, data)
			SELECT $1, a, d FROM unnest($2::text[], $3::bytea[]) AS t(a, d)
			ON CONFLICT (workspace, address) DO UPDATE SET data = excluded.data`),
		deleteSome: f(`DELETE FROM {s}.instances WHERE workspace = $1 AND address = ANY($2::text[])`),
		deleteAll:  f(`DELETE FROM {s}.instances WHERE workspace = $1`),
		updateHead: f(`UPDATE {s}.states SET lineage = $2, serial = $3, generation = generation + 1, format_version = $4,
			fabrica_version = $5, outputs = $6, updated_at = now() WHERE workspace = $1 RETURNING generation`),
		// One journal batch, one statement (so one transaction and one round trip): it
		// checks that this session still holds the lock and that the state is still
		// this lineage (or new), raises the serial on a session's first batch, and
		// upserts and deletes instances. No row back means nothing was written.
		journal: f(`WITH lk AS (
				SELECT 1 FROM {s}.locks WHERE workspace = $1 AND id = $2 AND backend_pid = pg_backend_pid()),
			st AS (
				UPDATE {s}.states SET lineage = $3, serial = serial + $4, generation = generation + 1, updated_at = now()
				WHERE workspace = $1 AND lineage IN ($3, '') AND EXISTS (SELECT 1 FROM lk)
				RETURNING serial, generation),
			ins AS (
				INSERT INTO {s}.instances (workspace, address, data)
				SELECT $1, a, d FROM unnest($5::text[], $6::bytea[]) AS t(a, d) WHERE EXISTS (SELECT 1 FROM st)
				ON CONFLICT (workspace, address) DO UPDATE SET data = excluded.data),
			del AS (
				DELETE FROM {s}.instances WHERE workspace = $1 AND address = ANY($7::text[]) AND EXISTS (SELECT 1 FROM st))
			SELECT serial, generation FROM st`),
	}
}

// schemaVersion returns the version recorded in schema_migrations, 0 when there is no
// such table (or schema). It runs no failing statement, so it is safe in a transaction.
func (b *Backend) schemaVersion(ctx context.Context, q querier) (int, error) {
	// A plain catalog query, read with the statement's snapshot: to_regclass could
	// answer from this session's cache, made before another session's migration.
	var exists bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables
		WHERE schemaname = $1 AND tablename = 'schema_migrations')`, b.cfg.Schema).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := q.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+b.q.schema+".schema_migrations").Scan(&v)
	return v, err
}

// migrate brings the schema to SchemaVersion. The check is one query when it is
// current; otherwise the migrations run in one transaction under an advisory lock, so
// two fabricas starting on an empty database do not race, and a failed migration
// leaves nothing half done.
func (b *Backend) migrate(ctx context.Context) error {
	v, err := b.schemaVersion(ctx, b.pool)
	if err != nil {
		return b.dbError("checking the schema version", err)
	}
	if v == SchemaVersion {
		return nil
	}
	if v > SchemaVersion {
		return b.newerSchema(v)
	}
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return b.dbError("migrating the schema", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", advisoryKey("migrate", b.cfg.Schema)); err != nil {
		return b.dbError("migrating the schema", err)
	}
	if v, err = b.schemaVersion(ctx, tx); err != nil { // another fabrica may have done it
		return b.dbError("migrating the schema", err)
	}
	if v > SchemaVersion {
		return b.newerSchema(v)
	}
	if v == 0 {
		_, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+b.q.schema+`;
			CREATE TABLE IF NOT EXISTS `+b.q.schema+`.schema_migrations (
				version    integer PRIMARY KEY,
				applied_at timestamptz NOT NULL DEFAULT now()
			)`)
		if err != nil {
			return b.dbError("creating schema "+b.cfg.Schema, err)
		}
	}
	for i := v; i < SchemaVersion; i++ {
		if _, err := tx.Exec(ctx, strings.ReplaceAll(migrations[i], "{s}", b.q.schema)); err != nil {
			return b.dbError(fmt.Sprintf("migrating schema %s to version %d", b.cfg.Schema, i+1), err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+b.q.schema+".schema_migrations (version) VALUES ($1)", i+1); err != nil {
			return b.dbError("migrating the schema", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return b.dbError("migrating the schema", err)
	}
	return nil
}

func (b *Backend) newerSchema(v int) error {
	return fmt.Errorf("pg backend: schema %s is at version %d, newer than this fabrica knows (%d); upgrade fabrica",
		b.cfg.Schema, v, SchemaVersion)
}
