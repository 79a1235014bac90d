package pg

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The lock is a session-level advisory lock on a key derived from schema and workspace,
// taken on a connection of its own that stays open for the whole writing run; every
// write of the run goes through that connection. PostgreSQL releases the lock when
// the session ends, however it ends (the process is killed, the network fails, the
// server restarts), and from then on the connection is closed, so a writer that lost
// its lock cannot write anything (fencing). The locks table records who holds it, for
// others' messages; a row whose session is gone is stale and ignored, since only the
// advisory lock decides.

// session is a held lock and the connection that holds it.
type session struct {
	mu   sync.Mutex // serialises use of conn
	conn *pgx.Conn
	info states.LockInfo
	pid  uint32 // the backend's process id, in the locks row
	// own is the serial of the last write made under this lock, or -1.
	own int64
}

// lost reports whether err means the session (and so the lock) is gone: the
// connection is closed, or the server ended the session (a FATAL error: shutdown,
// restart, pg_terminate_backend).
func (s *session) lost(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && connLost(err) {
		return true
	}
	return s.conn.IsClosed()
}

// Lock takes the workspace's lock. See states.Backend: with a context deadline it
// retries until then; without, it tries once. The holder is named in *LockedError.
func (b *Backend) Lock(ctx context.Context, info states.LockInfo) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lock != nil {
		return "", &states.LockedError{Info: b.lock.info}
	}
	if info.ID == "" {
		info.ID = states.NewLockID()
	}
	if info.Created.IsZero() {
		info.Created = time.Now().UTC().Truncate(time.Second)
	}
	conn, err := pgx.ConnectConfig(ctx, b.connCfg.Copy())
	if err != nil {
		return "", b.dbError("locking the state", err)
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	// A returned write is on disk at the server, whatever the server's default.
	if _, err := conn.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		return "", b.dbError("locking the state", err)
	}
	var delay time.Duration
	for {
		var got bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", b.lockKey).Scan(&got); err != nil {
			if ctx.Err() != nil {
				return "", b.lockedError(ctx)
			}
			return "", b.dbError("locking the state", err)
		}
		if got {
			break
		}
		if _, wait := ctx.Deadline(); !wait || ctx.Err() != nil {
			return "", b.lockedError(ctx)
		}
		delay = min(max(2*delay, 10*time.Millisecond), 500*time.Millisecond)
		select {
		case <-ctx.Done():
			return "", b.lockedError(ctx)
		case <-time.After(delay):
		}
	}
	batch := &pgx.Batch{}
	batch.Queue(b.q.ensureState, b.ws)
	batch.Queue(b.q.upsertLock, b.ws, info.ID, info.Who, info.Operation, info.Created, info.PID)
	if err := conn.SendBatch(ctx, batch).Close(); err != nil {
		return "", b.dbError("locking the state", err)
	}
	ok = true
	b.lock = &session{conn: conn, info: info, pid: conn.PgConn().PID(), own: -1}
	return info.ID, nil
}

// lockedError describes the holder from the locks row. The holder writes the row just
// after taking the advisory lock, so a missing row is retried briefly.
func (b *Backend) lockedError(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for range 20 {
		info, _, err := b.lockRow(ctx, b.pool)
		if err == nil && info.ID != "" {
			return &states.LockedError{Info: info}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &states.LockedError{}
}

// lockRow reads who holds (or held) the lock; a zero LockInfo when there is no row.
func (b *Backend) lockRow(ctx context.Context, q querier) (states.LockInfo, int32, error) {
	var info states.LockInfo
	var pid, backend int32
	err := q.QueryRow(ctx, b.q.lockRow, b.ws).Scan(&info.ID, &info.Who, &info.Operation, &info.Created, &pid, &backend)
	if errors.Is(err, pgx.ErrNoRows) {
		return states.LockInfo{}, 0, nil
	}
	info.Created = info.Created.UTC()
	info.PID = int(pid)
	return info, backend, err
}

// Unlock releases the lock held with id, closing any open journal first. If the lock's
// connection was lost, PostgreSQL has released the lock already; Unlock then only
// tries to remove the stale row.
func (b *Backend) Unlock(ctx context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lock == nil {
		return errors.New("cannot unlock: this fabrica does not hold the state lock")
	}
	if id != b.lock.info.ID {
		return fmt.Errorf("cannot unlock: lock id %s is not the lock held, %s", id, b.lock.info.ID)
	}
	return b.unlockLocked(ctx)
}

func (b *Backend) unlockLocked(ctx context.Context) error {
	if b.journal != nil {
		// Its error, if any, was returned by the Put or Remove that failed.
		_ = b.journal.closeLocked()
	}
	s := b.lock
	b.lock = nil
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	if !s.conn.IsClosed() {
		// Remove the row and release the advisory lock, then end the session. Ending
		// it would release the lock too, but only once the server process has exited,
		// a moment after Close returns; the next Lock must not find it still held.
		batch := &pgx.Batch{}
		batch.Queue(b.q.deleteLock, b.ws, s.info.ID)
		batch.Queue("SELECT pg_advisory_unlock($1)", b.lockKey)
		err := s.conn.SendBatch(ctx, batch).Close()
		_ = s.conn.Close(ctx)
		if err == nil {
			return nil
		}
	}
	// The session is gone, and its advisory lock with it: remove our row if it is
	// still there (a later holder's row has another id). Best effort: a stale row is
	// harmless, the next Lock replaces it.
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, _ = b.pool.Exec(tctx, b.q.deleteLock, b.ws, s.info.ID)
	return nil
}

// ForceUnlock removes the lock with the given id (force-unlock ID). If its holder's
// session is gone (the process died, the connection broke) only its stale row is
// removed. If the session is still open - a fabrica that hangs, or a laptop that went
// away without closing its connection - ForceUnlock ends it with pg_terminate_backend,
// which needs the same role as the holder or pg_signal_backend: the holder's writes go
// through that session, so it can write nothing after this.
func (b *Backend) ForceUnlock(ctx context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lock != nil && b.lock.info.ID == id {
		return b.unlockLocked(ctx)
	}
	conn, err := pgx.ConnectConfig(ctx, b.connCfg.Copy())
	if err != nil {
		return b.dbError("force-unlock", err)
	}
	defer conn.Close(context.WithoutCancel(ctx)) // releases the advisory lock if taken here
	info, backend, err := b.lockRow(ctx, conn)
	if err != nil {
		return b.dbError("force-unlock", err)
	}
	var free bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", b.lockKey).Scan(&free); err != nil {
		return b.dbError("force-unlock", err)
	}
	switch {
	case info.ID == "" && free:
		return fmt.Errorf("cannot force-unlock %s: the state is not locked", id)
	case info.ID == "":
		return fmt.Errorf("cannot force-unlock %s: the state is locked but its lock information cannot be read", id)
	case info.ID != id:
		return fmt.Errorf("cannot force-unlock: lock id %s is not the current lock; the current lock id is %s (held by %s since %s)",
			id, info.ID, info.Who, info.Created.Format(time.RFC3339))
	}
	if !free {
		holder, err := b.holderPID(ctx, conn)
		if err != nil {
			return b.dbError("force-unlock", err)
		}
		if holder == 0 {
			holder = backend
		}
		var ended bool
		if err := conn.QueryRow(ctx, "SELECT pg_terminate_backend($1)", holder).Scan(&ended); err != nil || !ended {
			if err == nil {
				err = errors.New("pg_terminate_backend returned false")
			}
			return fmt.Errorf("cannot force-unlock %s: the lock is held by a live database session (pid %d) of %s (process %d, operation %s) that this role may not end: %v; stop that fabrica, or have an administrator run SELECT pg_terminate_backend(%d)",
				id, holder, info.Who, info.PID, info.Operation, err, holder)
		}
		for i := 0; !free; i++ {
			if i == 100 {
				return fmt.Errorf("cannot force-unlock %s: ended the holder's session (pid %d) but the lock is still held", id, holder)
			}
			time.Sleep(50 * time.Millisecond)
			if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", b.lockKey).Scan(&free); err != nil {
				return b.dbError("force-unlock", err)
			}
		}
	}
	if _, err := conn.Exec(ctx, b.q.deleteLock, b.ws, id); err != nil {
		return b.dbError("force-unlock", err)
	}
	return nil
}

// holderPID finds the backend process holding the workspace's advisory lock: a bigint
// key shows as classid (high half), objid (low half) and objsubid 1 in pg_locks.
func (b *Backend) holderPID(ctx context.Context, q querier) (int32, error) {
	var pid int32
	err := q.QueryRow(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1 AND pid <> pg_backend_pid() LIMIT 1`,
		int64(uint64(b.lockKey)>>32), int64(uint64(b.lockKey)&0xffffffff)).Scan(&pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return pid, err
}
