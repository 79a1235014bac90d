package pg

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/statefile"
	"github.com/jackc/pgx/v5"
)

// Journal returns a journal that writes each record straight into the instances
// table, on the lock's session, in a transaction that also checks the lock and the
// lineage and raises the serial on the session's first record (so plans made before
// it are stale, as with the local backend's journal). There is nothing to replay:
// Load reads the rows.
//
// Durability: Put and Remove return once their transaction has committed with
// synchronous_commit on, so a returned record survives the fabrica process being
// killed and the server crashing. Concurrent records share a transaction (group
// commit): while one transaction commits, the records that arrive wait and go
// together in the next, so a crash loses only records whose Put had not returned.
// A failed write (the server restarted, the connection broke) fails the journal:
// every later record returns that error, and nothing is written after it.
func (b *Backend) Journal(ctx context.Context, base *states.State) (states.Journal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lock == nil {
		return nil, states.ErrNotLocked
	}
	if b.journal != nil {
		return nil, errors.New("a journal is already open")
	}
	ls := b.lock
	ls.mu.Lock()
	h, err := b.readHead(ctx, ls.conn, false)
	ls.mu.Unlock()
	if err != nil {
		if ls.lost(err) {
			return nil, b.lostLock(err)
		}
		return nil, err
	}
	if h.lineage != "" && base.Lineage != h.lineage {
		return nil, fmt.Errorf("cannot journal changes to %s: it holds another state (lineage %s) than the one being changed (lineage %s)",
			b.where(), h.lineage, base.Lineage)
	}
	if base.Lineage == "" {
		base.Lineage = states.NewLineage()
	}
	j := &journal{b: b, ls: ls, lineage: base.Lineage}
	j.cond.L = &j.mu
	b.journal = j
	return j, nil
}

// journal is the pg backend's states.Journal.
type journal struct {
	b       *Backend
	ls      *session
	lineage string

	// gate is held shared by Put and Remove, exclusively by Close and Persist.
	gate   sync.RWMutex
	closed bool

	mu      sync.Mutex
	cond    sync.Cond
	pending []op
	seq     uint64 // records added to pending
	done    uint64 // records committed
	writing bool   // a goroutine is committing
	bumped  bool   // this session raised the serial (since it started or was rebased)
	failed  error
}

// op is one record: an instance's row to upsert, or an address to delete (data nil).
type op struct {
	addr string
	data []byte
	hash uint64
}

// Put records inst.
func (j *journal) Put(inst *states.Instance) error {
	plain, err := statefile.AppendInstance(nil, inst)
	if err != nil {
		return err // the instance cannot be recorded; the journal is fine
	}
	data, err := j.b.cfg.Crypt.Encrypt(plain)
	if err != nil {
		return fmt.Errorf("encrypting: %w", err)
	}
	return j.record(op{addr: inst.Address, data: data, hash: maphash.Bytes(j.b.seed, plain)})
}

// Remove records that addr is gone.
func (j *journal) Remove(addr string) error {
	return j.record(op{addr: addr})
}

func (j *journal) record(o op) error {
	j.gate.RLock()
	defer j.gate.RUnlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return errors.New("the journal is closed")
	}
	if j.failed != nil {
		return j.failed
	}
	j.pending = append(j.pending, o)
	j.seq++
	mine := j.seq
	for j.done < mine && j.failed == nil {
		if j.writing {
			j.cond.Wait()
			continue
		}
		j.writing = true
		batch, upto, bump := j.pending, j.seq, !j.bumped
		if !j.b.groupCommit {
			batch, upto = batch[:1], j.done+1
		}
		j.pending = j.pending[len(batch):]
		j.mu.Unlock()
		err := j.commit(batch, bump)
		j.mu.Lock()
		j.writing = false
		if err != nil {
			j.failed = err
		} else {
			j.done, j.bumped = upto, true
		}
		j.cond.Broadcast()
	}
	if j.done >= mine {
		return nil
	}
	return j.failed
}

// commit writes a batch in one statement. The last record of an address wins.
func (j *journal) commit(batch []op, bump bool) error {
	last := make(map[string]int, len(batch))
	for i, o := range batch {
		last[o.addr] = i
	}
	var addrs, removed []string
	var data [][]byte
	for i, o := range batch {
		if last[o.addr] != i {
			continue
		}
		if o.data == nil {
			removed = append(removed, o.addr)
		} else {
			addrs, data = append(addrs, o.addr), append(data, o.data)
		}
	}
	inc := int64(0)
	if bump {
		inc = 1
	}
	b, ls := j.b, j.ls
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.conn.IsClosed() {
		b.forget()
		return b.lostLock(nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	var serial, gen int64
	err := ls.conn.QueryRow(ctx, b.q.journal, b.ws, ls.info.ID, j.lineage, inc, addrs, data, removed).Scan(&serial, &gen)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		b.forget()
		return fmt.Errorf("cannot record to %s: it no longer holds this state (lineage %s) or this fabrica no longer holds its lock; nothing was recorded",
			b.where(), j.lineage)
	case ls.lost(err):
		b.forget()
		return b.lostLock(err)
	case err != nil:
		b.forget()
		return b.dbError("recording a change", err)
	}
	ls.own = serial
	b.kmu.Lock()
	if k := &b.known; k.valid && k.gen+1 == gen {
		k.gen = gen
		k.lineage = j.lineage
		for i, o := range batch {
			switch {
			case last[o.addr] != i:
			case o.data == nil:
				delete(k.rows, o.addr)
			default:
				k.rows[o.addr] = o.hash
			}
		}
	} else {
		b.known = known{}
	}
	b.kmu.Unlock()
	return nil
}

// pause waits for records in progress and holds new ones until resume.
func (j *journal) pause()  { j.gate.Lock() }
func (j *journal) resume() { j.gate.Unlock() }

// rebase starts a new session after a Persist (the caller holds the journal paused):
// the next record raises the serial again.
func (j *journal) rebase(lineage string) {
	j.mu.Lock()
	j.bumped = false
	j.lineage = lineage
	j.mu.Unlock()
}

// Close closes the journal. Every record that returned is committed already.
func (j *journal) Close() error {
	j.b.mu.Lock()
	defer j.b.mu.Unlock()
	return j.closeLocked()
}

// closeLocked closes the journal; the caller holds j.b.mu.
func (j *journal) closeLocked() error {
	j.gate.Lock()
	defer j.gate.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	if j.b.journal == j {
		j.b.journal = nil
	}
	return j.failed
}
