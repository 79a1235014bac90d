package pg

import (
	"context"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"sync"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/statefile"
	"github.com/jackc/pgx/v5"
)

// known is what this Backend knows is stored, so that Persist writes only the rows that
// changed: at generation gen (the states row's counter of writes), rows holds a hash of
// each instance's plaintext row. current is set when every stored row is written as
// Crypt writes now; otherwise the next Persist rewrites all (a key rotation, or
// encryption turned on or off).
type known struct {
	valid   bool
	current bool
	gen     int64
	lineage string
	rows    map[string]uint64
}

// row is one instance to write.
type row struct {
	addr  string
	plain []byte // AppendInstance
	hash  uint64
}

// encodeState encodes every instance of s, on all cores.
func (b *Backend) encodeState(s *states.State) ([]row, error) {
	insts := slices.Collect(s.Instances())
	rows := make([]row, len(insts))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(insts)/2048))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(insts)/workers, (w+1)*len(insts)/workers
		wg.Go(func() {
			var buf []byte
			for i := lo; i < hi; i++ {
				if cap(buf)-len(buf) < 4096 {
					buf = make([]byte, 0, 1<<20)
				}
				start := len(buf)
				var err error
				if buf, err = statefile.AppendInstance(buf, insts[i]); err != nil {
					errs[w] = err
					return
				}
				p := buf[start:len(buf):len(buf)]
				rows[i] = row{addr: insts[i].Address, plain: p, hash: maphash.Bytes(b.seed, p)}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// seal encrypts rows' data (in parallel when there are many).
func (b *Backend) seal(rows []row) ([][]byte, error) {
	data := make([][]byte, len(rows))
	if !b.cfg.Crypt.Encrypts() {
		for i := range rows {
			data[i] = rows[i].plain
		}
		return data, nil
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), len(rows)/1024))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w * len(rows) / workers; i < (w+1)*len(rows)/workers; i++ {
				var err error
				if data[i], err = b.cfg.Crypt.Encrypt(rows[i].plain); err != nil {
					errs[w] = fmt.Errorf("encrypting: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return data, nil
}

// Persist replaces the stored state with s in one transaction on the lock's session.
// See states.Backend. It writes only the instances that differ from what this Backend
// knows is stored (from its Load, journal and last Persist); when it does not know,
// it reads and checks the stored rows, then rewrites them all.
func (b *Backend) Persist(ctx context.Context, s *states.State) error {
	return b.replace(ctx, s, false, func(h head, _ *states.State) (uint64, error) {
		if h.lineage != "" && h.lineage != s.Lineage {
			return 0, fmt.Errorf("refusing to overwrite %s: it holds another state (lineage %s) than the one being written (lineage %s); it was replaced since it was read",
				b.where(), h.lineage, s.Lineage)
		}
		if uint64(h.serial) > s.Serial && h.serial != b.lock.own {
			return 0, fmt.Errorf("refusing to overwrite %s: its serial %d is newer than the serial %d of the state being written; it changed since it was read",
				b.where(), h.serial, s.Serial)
		}
		return max(s.Serial, uint64(h.serial)) + 1, nil
	})
}

// replace is what Persist and Push share: under the lock, with the journal paused, it
// encodes s and writes it (see write) once decide has approved and numbered it.
func (b *Backend) replace(ctx context.Context, s *states.State, full bool, decide func(head, *states.State) (uint64, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lock == nil {
		return states.ErrNotLocked
	}
	if j := b.journal; j != nil {
		j.pause()
		defer j.resume()
	}
	rows, err := b.encodeState(s)
	if err != nil {
		return err
	}
	return b.write(ctx, s, rows, full, decide)
}

// Push replaces the stored state with s if states.CheckPush allows it.
func (b *Backend) Push(ctx context.Context, s *states.State, force bool) error {
	return b.replace(ctx, s, true, func(_ head, current *states.State) (uint64, error) {
		if err := states.CheckPush(current, s, force); err != nil {
			return 0, err
		}
		serial := s.Serial
		if serial < current.Serial || serial == current.Serial && !s.SameContent(current) {
			serial = current.Serial + 1
		}
		return serial, nil
	})
}

// write runs one transaction on the lock's session: it locks the states row, lets
// decide check it (and choose the serial), writes the instances - only the changed
// ones when what is stored is known, else all of them after reading the stored state
// (which must be readable: nothing is written over data that cannot be decrypted) -
// and the states row. With full, the stored state is always read and rewritten;
// decide gets it (or nil when it was not read).
func (b *Backend) write(ctx context.Context, s *states.State, rows []row, full bool, decide func(h head, current *states.State) (uint64, error)) error {
	ls := b.lock
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.conn.IsClosed() {
		return b.lostLock(nil)
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	fail := func(doing string, err error) error {
		b.forget()
		if ls.lost(err) {
			return b.lostLock(err)
		}
		return b.dbError(doing, err)
	}
	tx, err := ls.conn.Begin(ctx)
	if err != nil {
		return fail("writing the state", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var held int
	if err := tx.QueryRow(ctx, b.q.checkLock, b.ws, ls.info.ID).Scan(&held); err != nil {
		return fail("writing the state", err)
	}
	if held != 1 {
		b.forget()
		return b.lostLock(nil)
	}
	h, err := b.readHead(ctx, tx, true)
	if err != nil {
		b.forget()
		return err
	}
	b.kmu.Lock()
	kn := b.known
	b.kmu.Unlock()
	incremental := !full && kn.valid && kn.current && kn.gen == h.gen && h.exists
	var current *states.State
	if !incremental && (full || !kn.valid || kn.gen != h.gen) {
		if current, _, err = b.read(ctx, tx, false); err != nil {
			b.forget()
			return err
		}
	}
	serial, err := decide(h, current)
	if err != nil {
		return err
	}
	var changed []row
	var removed []string
	if incremental {
		seen := make(map[string]bool, len(rows))
		for _, r := range rows {
			seen[r.addr] = true
			if old, ok := kn.rows[r.addr]; !ok || old != r.hash {
				changed = append(changed, r)
			}
		}
		for addr := range kn.rows {
			if !seen[addr] {
				removed = append(removed, addr)
			}
		}
		incremental = len(changed) <= len(rows)/2 || len(changed) < 10000
	}
	if !incremental {
		changed, removed = rows, nil
		if _, err := tx.Exec(ctx, b.q.deleteAll, b.ws); err != nil {
			return fail("writing the state", err)
		}
	}
	data, err := b.seal(changed)
	if err != nil {
		return err
	}
	if err := b.writeRows(ctx, tx, changed, data, removed, !incremental); err != nil {
		return fail("writing the state", err)
	}
	if s.Lineage == "" {
		s.Lineage = states.NewLineage()
	}
	version := s.FabricaVersion
	if b.cfg.Version != "" {
		version = b.cfg.Version
	}
	outs, err := statefile.AppendOutputs(nil, s.Outputs)
	if err != nil {
		return err
	}
	if outs, err = b.cfg.Crypt.Encrypt(outs); err != nil {
		return fmt.Errorf("encrypting: %w", err)
	}
	var gen int64
	if err := tx.QueryRow(ctx, b.q.updateHead, b.ws, s.Lineage, int64(serial), states.FormatVersion, version, outs).Scan(&gen); err != nil {
		return fail("writing the state", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fail("writing the state", err)
	}
	s.Serial, s.FabricaVersion, s.FormatVersion = serial, version, states.FormatVersion
	ls.own = int64(serial)
	nk := known{valid: true, current: true, gen: gen, lineage: s.Lineage, rows: make(map[string]uint64, len(rows))}
	for _, r := range rows {
		nk.rows[r.addr] = r.hash
	}
	b.kmu.Lock()
	b.known = nk
	b.kmu.Unlock()
	if b.journal != nil {
		b.journal.rebase(s.Lineage)
	}
	return nil
}

// writeRows upserts changed (with their data) and deletes removed; with copy it
// inserts with COPY into a workspace just emptied.
func (b *Backend) writeRows(ctx context.Context, tx pgx.Tx, changed []row, data [][]byte, removed []string, copy bool) error {
	if copy {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{b.cfg.Schema, "instances"}, []string{"workspace", "address", "data"},
			pgx.CopyFromSlice(len(changed), func(i int) ([]any, error) {
				return []any{b.ws, changed[i].addr, data[i]}, nil
			}))
		return err
	}
	const chunk = 5000
	for lo := 0; lo < len(changed); lo += chunk {
		hi := min(lo+chunk, len(changed))
		addrs := make([]string, 0, hi-lo)
		for _, r := range changed[lo:hi] {
			addrs = append(addrs, r.addr)
		}
		if _, err := tx.Exec(ctx, b.q.upsert, b.ws, addrs, data[lo:hi]); err != nil {
			return err
		}
	}
	for lo := 0; lo < len(removed); lo += chunk {
		if _, err := tx.Exec(ctx, b.q.deleteSome, b.ws, removed[lo:min(lo+chunk, len(removed))]); err != nil {
			return err
		}
	}
	return nil
}

// forget drops what is known to be stored: after a failed write it is unsure.
func (b *Backend) forget() {
	b.kmu.Lock()
	b.known = known{}
	b.kmu.Unlock()
}

// lostLock is the error for a write whose lock session is gone.
func (b *Backend) lostLock(err error) error {
	msg := fmt.Sprintf("%s: the state lock was lost: its database session ended (the PostgreSQL server restarted, the connection failed, or someone ran force-unlock); nothing more was written, and every change recorded before this one is stored - run the command again", b.where())
	if err != nil {
		return fmt.Errorf("%s: %w", msg, err)
	}
	return fmt.Errorf("%s", msg)
}
