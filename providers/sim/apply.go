package sim

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/fabrica-iac/fabrica/providers"
)

// applyLockWait is how long Apply waits for the world lock held by another process.
const applyLockWait = 30 * time.Second

var errStopped = errors.New("stopped")

// session is one Apply holding the world: the lock, the journal and the apply number
// that, with the seed, decides which changes fail.
type session struct {
	p   *provider
	cfg config
	w   *world
	j   *journal
	lk  *flock.Flock
	n   uint64
}

// Apply carries out each change concurrently with the others, so the caller's
// parallelism is how many changes it sends before their Done or Failed events. A change
// goes to an idle worker goroutine, or to a new one when all are busy; reusing workers
// spares 100,000 goroutine starts. The world is locked from the first change to the end;
// each finished change is appended to the journal before its Done event, and the
// journal is folded into the world file when changes is closed.
func (p *provider) Apply(ctx context.Context, changes <-chan providers.Change, events chan<- providers.Event) error {
	var (
		s        *session
		beginErr error
		wg       sync.WaitGroup
		work     = make(chan providers.Change) // to idle workers
	)
	for ch := range changes {
		if s == nil && beginErr == nil {
			s, beginErr = p.begin(ctx)
		}
		if beginErr != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				events <- providers.Event{Address: ch.Address, Type: providers.EventFailed, Message: beginErr.Error()}
			}()
			continue
		}
		select {
		case work <- ch:
		default:
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.apply(ctx, ch, events)
				for ch := range work {
					s.apply(ctx, ch, events)
				}
			}()
		}
	}
	close(work)
	wg.Wait()
	if s != nil {
		return s.end()
	}
	return beginErr
}

// begin locks the world, reloads it if another process changed it, folds a journal left
// by a killed apply, and opens a fresh journal.
func (p *provider) begin(ctx context.Context) (*session, error) {
	p.mu.Lock()
	dir, configured := p.dir, p.world != nil
	p.mu.Unlock()
	if !configured {
		return nil, errors.New("the sim provider was not configured")
	}
	lk, err := lockWorld(ctx, dir, applyLockWait)
	if err != nil {
		return nil, err
	}
	s, err := p.beginLocked()
	if err != nil {
		lk.Unlock()
		return nil, err
	}
	s.lk = lk
	return s, nil
}

func (p *provider) beginLocked() (*session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := stampOf(p.dir)
	if !st.equal(p.stamp) {
		w, _, err := load(p.dir)
		if err != nil {
			return nil, err
		}
		p.world = w
	}
	if st.journal.exists {
		if err := p.world.save(); err != nil {
			return nil, fmt.Errorf("folding the sim journal: %w", err)
		}
	}
	j, err := openJournal(p.world.journalPath())
	if err != nil {
		return nil, err
	}
	p.world.mu.Lock()
	p.world.applies++
	n := p.world.applies
	p.world.mu.Unlock()
	if err := j.append(journalEntry{Op: opApply, N: n}); err != nil {
		j.close()
		return nil, err
	}
	p.applying++
	return &session{p: p, cfg: p.cfg, w: p.world, j: j, n: n}, nil
}

// end folds the journal into the world file and releases the world.
func (s *session) end() error {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	defer s.lk.Unlock()
	p.applying--
	err := s.j.close()
	if err == nil {
		err = s.w.save()
	}
	p.stamp = stampOf(p.dir)
	if err != nil {
		return fmt.Errorf("saving the sim world: %w (the finished changes are kept in %s and are folded in on the next run)", err, s.w.journalPath())
	}
	return nil
}

// apply carries out one change and sends its events, the Done or Failed one last.
func (s *session) apply(ctx context.Context, ch providers.Change, events chan<- providers.Event) {
	send := func(e providers.Event) {
		e.Address = ch.Address
		events <- e
	}
	send(providers.Event{Type: providers.EventStarted})
	send(s.run(ctx, ch, send))
}

// run carries out one change and returns its Done or Failed event.
func (s *session) run(ctx context.Context, ch providers.Change, send func(providers.Event)) providers.Event {
	spec, ok := kinds[ch.Kind]
	if !ok {
		d := unsupportedKind(ch.Kind)
		return providers.Event{Type: providers.EventFailed, Message: d.Detail, Diagnostics: []providers.Diagnostic{d}}
	}
	switch ch.Action {
	case providers.ActionCreate:
		return s.create(ctx, ch, spec, send)
	case providers.ActionUpdate:
		return s.update(ctx, ch, spec)
	case providers.ActionDelete:
		return s.delete(ctx, ch)
	}
	return failed(fmt.Sprintf("the sim provider cannot %q %s", ch.Action, ch.Address))
}

// create makes a new object; hardware goes through its stages first.
func (s *session) create(ctx context.Context, ch providers.Change, spec *kindSpec, send func(providers.Event)) providers.Event {
	fail := s.fails(ch)
	if spec.staged {
		for i, stage := range hardwareStages {
			if err := s.wait(ctx, s.stageDelay(i)); err != nil {
				return failedErr(err)
			}
			if fail && stage == stageInService {
				return failed(s.failMessage(ch, " during "+stageBurnIn))
			}
			send(providers.Event{Type: providers.EventProgress, Stage: stage})
		}
	} else if err := s.wait(ctx, s.cfg.latency); err != nil {
		return failedErr(err)
	}
	if fail && !spec.staged {
		return failed(s.failMessage(ch, ""))
	}
	var buf [maxStackFields]field
	planned, err := splitObject(buf[:0], ch.Planned)
	if err != nil {
		return failed(fmt.Sprintf("planned attributes of %s: %v", ch.Address, err))
	}
	// Creates are idempotent by address: an object made by an apply whose answer was
	// lost (fabrica killed) is adopted, not duplicated.
	var id string
	if old, ok := s.w.newestAt(ch.Address); ok && old.Kind == ch.Kind && old.ID != ch.Replacing {
		id = old.ID
	} else {
		id = s.w.newID(ch.Kind)
	}
	set := append([]field{stringField("id", id)}, spec.onCreate...)
	if spec.staged {
		set = append(set, stringField("serial_number", serialNumber(id)), stringField("bmc_password", bmcPassword(id)))
	}
	attrs := merge(planned, nil, set)
	return s.commit(ch, id, attrs)
}

// update replaces an object's attributes, keeping the computed ones it has.
func (s *session) update(ctx context.Context, ch providers.Change, spec *kindSpec) providers.Event {
	old, ok := s.w.get(ch.ID)
	if !ok || old.Kind != ch.Kind {
		return failed(fmt.Sprintf("%s (sim object %s) no longer exists; run fabrica plan again to see it gone", ch.Address, ch.ID))
	}
	if err := s.wait(ctx, s.cfg.latency); err != nil {
		return failedErr(err)
	}
	if s.fails(ch) {
		return failed(s.failMessage(ch, ""))
	}
	var pbuf, abuf [maxStackFields]field
	planned, err := splitObject(pbuf[:0], ch.Planned)
	if err != nil {
		return failed(fmt.Sprintf("planned attributes of %s: %v", ch.Address, err))
	}
	// Computed attributes are the world's, not the plan's: an update of tags does not
	// put a server back in service.
	actual, err := splitObject(abuf[:0], old.Attrs)
	if err != nil {
		return failed(fmt.Sprintf("sim object %s: %v", ch.ID, err))
	}
	set := []field{stringField("id", ch.ID)}
	for _, k := range spec.computed {
		if v := lookup(actual, k); v != nil && k != "id" {
			set = append(set, field{key: []byte(k), val: v})
		}
	}
	attrs := merge(planned, nil, set)
	return s.commit(ch, ch.ID, attrs)
}

// delete removes an object; one that is gone already counts as deleted.
func (s *session) delete(ctx context.Context, ch providers.Change) providers.Event {
	if err := s.wait(ctx, s.cfg.latency); err != nil {
		return failedErr(err)
	}
	if s.fails(ch) {
		return failed(s.failMessage(ch, ""))
	}
	if _, ok := s.w.get(ch.ID); ok { // deleting what is gone already is done
		if err := s.j.append(journalEntry{Op: opDelete, ID: ch.ID}); err != nil {
			return failedErr(err)
		}
		s.w.del(ch.ID)
	}
	return providers.Event{Type: providers.EventDone, ID: ch.ID}
}

// commit journals an object's new attributes, then puts it in the world.
func (s *session) commit(ch providers.Change, id string, attrs []byte) providers.Event {
	o := &Object{ID: id, Kind: ch.Kind, Address: ch.Address, Attrs: attrs, Hash: providers.AttrsHash(attrs)}
	if err := s.j.append(journalEntry{Op: opPut, ID: id, Kind: ch.Kind, Address: ch.Address, Attrs: attrs}); err != nil {
		return failedErr(err)
	}
	s.w.put(o)
	return providers.Event{Type: providers.EventDone, ID: id, New: attrs}
}

// wait sleeps d, or less when the provider is stopped or ctx ends.
func (s *session) wait(ctx context.Context, d time.Duration) error {
	select {
	case <-s.p.stopped:
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	default:
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.p.stopped:
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stageDelay is the time hardware spends reaching stage i: a third of the latency each.
func (s *session) stageDelay(i int) time.Duration {
	third := s.cfg.latency / 3
	if i == len(hardwareStages)-1 {
		return s.cfg.latency - 2*third
	}
	return third
}

// fails decides whether a change fails: a hash of the seed, the apply number, the
// address and the action, read as a number in [0,1), below failure_rate. The outcome
// does not depend on the order or parallelism of changes, and the next apply draws anew.
func (s *session) fails(ch providers.Change) bool {
	rate := s.cfg.failureRate
	if rate <= 0 {
		return false
	}
	h := fnv.New64a()
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:8], uint64(s.cfg.seed))
	binary.LittleEndian.PutUint64(buf[8:], s.n)
	h.Write(buf[:])
	h.Write([]byte(ch.Address))
	h.Write([]byte{0})
	h.Write([]byte(ch.Action))
	u := float64(mix64(h.Sum64())>>11) / (1 << 53)
	return u < rate
}

// mix64 is the splitmix64 finalizer: FNV's high bits are poorly mixed for short inputs.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (s *session) failMessage(ch providers.Change, during string) string {
	return fmt.Sprintf("simulated failure of %s%s (failure_rate %g)", ch.Address, during, s.cfg.failureRate)
}

// serialNumber is a server's serial number, derived from its ID.
func serialNumber(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("SIM%08X", h.Sum32())
}

// bmcPassword is the credential a server's BMC is issued at burn-in: a secret, which
// the provider declares sensitive (see sensitive). Derived from the ID so the
// simulation stays reproducible.
func bmcPassword(id string) string {
	sum := sha256.Sum256([]byte("sim-bmc:" + id))
	return hex.EncodeToString(sum[:12])
}

func failed(msg string) providers.Event {
	return providers.Event{Type: providers.EventFailed, Message: msg}
}

func failedErr(err error) providers.Event {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return failed("cancelled: " + err.Error())
	}
	return failed(err.Error())
}
