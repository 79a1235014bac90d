// Package pg is the PostgreSQL state backend, for teams and CI sharing one state: it
// implements states.Backend for one workspace and states.Workspaces for all of them,
// with jackc/pgx.
//
//	b, err := pg.New(ctx, pg.Config{ConnString: os.Getenv("FABRICA_PG_CONN_STR"), Workspace: "staging"})
//	defer b.Close()
//
// # Tables
//
// In schema Config.Schema ("fabrica"), created on first use and migrated forward by
// New (SchemaVersion; versions in schema_migrations, applied in one transaction under
// an advisory lock, so concurrent first users do not race):
//
//	states     (workspace PK, lineage, serial, generation, format_version, fabrica_version, outputs)
//	instances  (workspace, address, data)  PK (workspace, address); data is the instance's
//	           state-file JSON (statefile.AppendInstance), or a crypt envelope of it
//	locks      (workspace PK, id, who, operation, created, pid, backend_pid)
//
// A row per instance makes per-resource persistence one small statement, and keeps
// the state queryable (SELECT address FROM fabrica.instances WHERE workspace = ...).
//
// # Guarantees
//
//   - Writes need the lock: a session-level advisory lock held by a connection of the
//     writer's own for the whole run, and every write goes through that connection and
//     checks, in its transaction, that the locks row names this session. PostgreSQL
//     frees the lock when the session ends for any reason, and a writer whose session
//     ended cannot write any more: it gets an error saying the lock was lost.
//   - A second writer gets the same *states.LockedError as with the local backend
//     ("state is locked by <who> since <when>, lock id <id>"); with a context
//     deadline Lock waits (--lock-timeout). ForceUnlock removes a dead holder's row,
//     and ends a live holder's session (see ForceUnlock).
//   - Load takes no lock and never waits: it reads one REPEATABLE READ snapshot, so
//     it sees a whole transaction or none of it. Any number of Loads run at once.
//   - Journal.Put and Remove each commit before returning (synchronous_commit on):
//     a crash - of fabrica, SIGKILL included, or of the server - loses only records
//     in flight. A run's first record raises the serial, so plans made before it are
//     stale, and a run that died leaves a consistent state with that serial.
//   - Persist and Push replace the state in one transaction; Persist writes only
//     the rows that changed since this Backend last read or wrote them (the
//     generation counter of the states row tells whether anyone else wrote since),
//     and refuses another lineage or a newer serial, as the local backend does.
//   - A server restart during a run fails the run's next write with a clear error;
//     everything committed before stays, and nothing is half written.
//   - With Config.Crypt, instance rows and outputs are encrypted; addresses, serial,
//     lineage and lock rows are not. Data that cannot be decrypted is an error
//     (*DecryptError), and nothing is written over it.
package pg
