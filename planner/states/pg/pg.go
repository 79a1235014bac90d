package pg

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
	"github.com/fabrica-iac/fabrica/planner/states/statefile"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultSchema is the PostgreSQL schema the backend's tables live in by default.
const DefaultSchema = "fabrica"

// Config configures a Backend.
type Config struct {
	// ConnString is a libpq connection string, as a URL (postgres://user@host/db) or
	// keyword/value pairs. Empty uses libpq's defaults and PG* environment variables.
	ConnString string
	// Schema is the schema holding the tables (schema_name); DefaultSchema when empty.
	Schema string
	// Workspace is the workspace whose state the Backend serves;
	// states.DefaultWorkspace when empty.
	Workspace string
	// Crypt, when set, encrypts each instance and the outputs (addresses, serial and
	// lineage stay readable, as keys).
	Crypt *crypt.Keyring
	// Version is stamped as fabrica_version into every state written, unless empty.
	Version string
	// ApplicationName is shown in pg_stat_activity; "fabrica" when empty.
	ApplicationName string
}

// Backend stores states in PostgreSQL. It implements states.Backend for its workspace,
// and states.Workspaces for all the workspaces in its schema. Build it with New and
// Close it when done.
type Backend struct {
	cfg     Config
	connCfg *pgx.ConnConfig
	pool    *pgxpool.Pool
	ws      string
	q       queries
	lockKey int64

	mu      sync.Mutex
	lock    *session // held lock, or nil
	journal *journal // open journal, or nil

	kmu   sync.Mutex // guards known
	known known
	seed  maphash.Seed

	// groupCommit lets concurrent journal records share a transaction (a variable
	// for the benchmarks).
	groupCommit bool
}

var (
	_ states.Backend    = (*Backend)(nil)
	_ states.Workspaces = (*Backend)(nil)
)

// New connects to PostgreSQL and returns a Backend for cfg.Workspace. It creates the
// schema and tables on first use and migrates an older schema forward (see
// SchemaVersion); a schema newer than this fabrica knows is an error.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.Schema == "" {
		cfg.Schema = DefaultSchema
	}
	if cfg.Workspace == "" {
		cfg.Workspace = states.DefaultWorkspace
	}
	if cfg.ApplicationName == "" {
		cfg.ApplicationName = "fabrica"
	}
	if err := states.ValidateWorkspaceName(cfg.Workspace); err != nil {
		return nil, err
	}
	if err := validSchema(cfg.Schema); err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(cfg.ConnString)
	if err != nil {
		return nil, fmt.Errorf("pg backend: invalid connection string: %w", err)
	}
	pcfg.ConnConfig.RuntimeParams["application_name"] = cfg.ApplicationName
	pcfg.MaxConns = max(pcfg.MaxConns, 8)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("pg backend: %w", err)
	}
	b := &Backend{
		cfg:         cfg,
		connCfg:     pcfg.ConnConfig,
		pool:        pool,
		ws:          cfg.Workspace,
		q:           newQueries(cfg.Schema),
		lockKey:     advisoryKey("state", cfg.Schema, cfg.Workspace),
		seed:        maphash.MakeSeed(),
		groupCommit: true,
	}
	if err := b.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return b, nil
}

// Close releases the lock if this Backend holds it, and closes its connections.
func (b *Backend) Close() error {
	b.mu.Lock()
	var err error
	if b.lock != nil {
		err = b.unlockLocked(context.Background())
	}
	b.mu.Unlock()
	b.pool.Close()
	return err
}

// Workspace returns the workspace the Backend serves.
func (b *Backend) Workspace() string { return b.ws }

// Schema returns the schema holding the tables.
func (b *Backend) Schema() string { return b.cfg.Schema }

// validSchema accepts the names PostgreSQL takes without quoting, so the schema can be
// named in messages and psql as it is.
func validSchema(s string) error {
	ok := len(s) <= 63 && s != ""
	for i := 0; i < len(s) && ok; i++ {
		c := s[i]
		ok = 'a' <= c && c <= 'z' || c == '_' || i > 0 && '0' <= c && c <= '9'
	}
	if !ok {
		return fmt.Errorf("pg backend: invalid schema_name %q: use lower-case letters, digits and '_', starting with a letter or '_'", s)
	}
	return nil
}

// advisoryKey is the 64-bit key of a PostgreSQL advisory lock.
func advisoryKey(parts ...string) int64 {
	h := sha256.Sum256([]byte("fabrica\x00" + strings.Join(parts, "\x00")))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// querier is what pgx.Tx and *pgx.Conn have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Load reads the workspace's state in one read-only snapshot, without locking.
// Instances recorded by a run that did not finish are in it already, and its serial
// was raised when that run recorded its first change.
func (b *Backend) Load(ctx context.Context) (*states.State, error) {
	st, err := b.load(ctx)
	for try := 0; try < 3 && err != nil && connLost(err) && ctx.Err() == nil; try++ {
		// Pooled connections the server ended (a restart) fail once each; reading
		// again on another is safe.
		st, err = b.load(ctx)
	}
	return st, err
}

// connLost reports whether err says the connection was lost: the server ended the
// session (a FATAL error: shutdown, restart, pg_terminate_backend) or it broke.
func connLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Severity == "FATAL" || pe.Severity == "PANIC" || strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "08")
	}
	var ce *pgconn.ConnectError
	return !errors.As(err, &ce) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		(pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "unexpected EOF"))
}

func (b *Backend) load(ctx context.Context) (*states.State, error) {
	tx, err := b.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, b.dbError("reading the state", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	b.mu.Lock()
	track := b.lock != nil // a writer: remember what is stored, for Persist
	b.mu.Unlock()
	st, snap, err := b.read(ctx, tx, track)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, b.dbError("reading the state", err)
	}
	if track {
		b.kmu.Lock()
		if !b.known.valid || snap.gen >= b.known.gen {
			b.known = snap
		}
		b.kmu.Unlock()
	}
	return st, nil
}

// head is the workspace's row of the states table.
type head struct {
	exists         bool
	lineage        string
	serial, gen    int64
	formatVersion  int
	fabricaVersion string
	outputs        []byte
}

func (b *Backend) readHead(ctx context.Context, q querier, forUpdate bool) (head, error) {
	sql := b.q.head
	if forUpdate {
		sql += " FOR UPDATE"
	}
	var h head
	err := q.QueryRow(ctx, sql, b.ws).Scan(&h.lineage, &h.serial, &h.gen, &h.formatVersion, &h.fabricaVersion, &h.outputs)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return head{formatVersion: states.FormatVersion}, nil
	case err != nil:
		return head{}, b.dbError("reading the state", err)
	}
	h.exists = true
	if h.formatVersion > states.FormatVersion {
		return head{}, fmt.Errorf("%s: %w", b.where(), &statefile.VersionError{Version: h.formatVersion})
	}
	return h, nil
}

// read reads the whole state. With track it also returns what is stored, for
// incremental writes.
func (b *Backend) read(ctx context.Context, q querier, track bool) (*states.State, known, error) {
	h, err := b.readHead(ctx, q, false)
	if err != nil {
		return nil, known{}, err
	}
	rows, err := q.Query(ctx, b.q.instances, b.ws)
	if err != nil {
		return nil, known{}, b.dbError("reading the state", err)
	}
	// Copy the rows into large chunks (pgx reuses its buffer between rows); the
	// instances' Attrs will point into them.
	var chunk []byte
	var raws [][]byte
	for rows.Next() {
		v := rows.RawValues()[0]
		if cap(chunk)-len(chunk) < len(v) {
			chunk = make([]byte, 0, max(4<<20, len(v)))
		}
		start := len(chunk)
		chunk = append(chunk, v...)
		raws = append(raws, chunk[start:len(chunk):len(chunk)])
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, known{}, b.dbError("reading the state", err)
	}
	insts, snap, err := b.decodeRows(raws, track)
	if err != nil {
		return nil, known{}, err
	}
	bld := states.NewBuilder(len(insts))
	for _, inst := range insts {
		if !bld.Add(inst) {
			return nil, known{}, fmt.Errorf("%s: resource instance %s is stored twice", b.where(), inst.Address)
		}
	}
	st := bld.State()
	st.Lineage, st.Serial = h.lineage, uint64(h.serial)
	st.FormatVersion, st.FabricaVersion = h.formatVersion, h.fabricaVersion
	if h.outputs != nil {
		plain, err := b.cfg.Crypt.Decrypt(h.outputs)
		if err != nil {
			return nil, known{}, &DecryptError{Where: b.where() + " outputs", Err: err}
		}
		if st.Outputs, err = statefile.ParseOutputs(plain); err != nil {
			return nil, known{}, fmt.Errorf("%s: the stored outputs cannot be read: %w", b.where(), err)
		}
		snap.current = snap.current && b.cfg.Crypt.Current(h.outputs)
	}
	snap.valid, snap.gen, snap.lineage = true, h.gen, h.lineage
	return st, snap, nil
}

// decodeRows decrypts and decodes instance rows on all cores.
func (b *Backend) decodeRows(raws [][]byte, track bool) ([]*states.Instance, known, error) {
	n := len(raws)
	insts := make([]*states.Instance, n)
	hashes := make([]uint64, n)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/2048))
	errs := make([]error, workers)
	cur := make([]bool, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Go(func() {
			var dec statefile.InstanceDecoder
			slots := make([]states.Instance, hi-lo)
			cur[w] = true
			for i := lo; i < hi; i++ {
				raw := raws[i]
				plain, err := b.cfg.Crypt.Decrypt(raw)
				if err != nil {
					errs[w] = &DecryptError{Where: b.where() + " instance row", Err: err}
					return
				}
				if err := dec.Decode(plain, &slots[i-lo]); err != nil {
					errs[w] = fmt.Errorf("%s: a stored resource instance cannot be read: %w", b.where(), err)
					return
				}
				insts[i] = &slots[i-lo]
				if track {
					hashes[i] = maphash.Bytes(b.seed, plain)
					cur[w] = cur[w] && b.cfg.Crypt.Current(raw)
				}
			}
		})
	}
	wg.Wait()
	snap := known{current: true}
	for w := range workers {
		if errs[w] != nil {
			return nil, known{}, errs[w]
		}
		snap.current = snap.current && cur[w]
	}
	if track {
		snap.rows = make(map[string]uint64, n)
		for i, inst := range insts {
			snap.rows[inst.Address] = hashes[i]
		}
	}
	return insts, snap, nil
}

// where names the state in messages.
func (b *Backend) where() string {
	return fmt.Sprintf("pg state %s.%s", b.cfg.Schema, b.ws)
}

// DecryptError is returned for stored data that cannot be decrypted: a wrong or
// missing key (*crypt.KeyError, crypt.ErrNoKey), modified data (crypt.ErrTampered), or
// plaintext where encryption is required (crypt.ErrPlaintext). Nothing is written over
// data that cannot be read.
type DecryptError struct {
	// Where names the state and part.
	Where string
	// Err is the crypt error.
	Err error
}

func (e *DecryptError) Error() string {
	return fmt.Sprintf("%s: %v; fabrica did not modify the state", e.Where, e.Err)
}

func (e *DecryptError) Unwrap() error { return e.Err }

// dbError wraps a database error with what was being done, and says so plainly when the
// server could not be reached.
func (b *Backend) dbError(doing string, err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %s: %w", b.where(), doing, err)
	}
	return fmt.Errorf("%s: %s: the PostgreSQL server cannot be reached or closed the connection: %w", b.where(), doing, err)
}

// writeTimeout bounds one write to the database, so a server that stopped answering
// fails the write instead of hanging apply.
const writeTimeout = 2 * time.Minute
