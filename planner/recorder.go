package planner

import (
	"sync"

	"github.com/fabrica-iac/fabrica/planner/states"
)

// recorders is how many records may be on their way to the journal at once. A journal
// that commits to a database groups the records that arrive while it commits, so more
// writers mean larger, fewer commits; a file journal is not slowed by them.
const recorders = 64

// recorder writes finished changes to the journal off the walker's loop, so that a
// journal that waits for a database commit holds neither the loop nor a parallelism
// slot: the provider starts the next change while the last one is being recorded.
// What depends on a change starts only once its record is durable (see walker.recorded),
// so a crash never leaves a recorded instance whose dependency was not recorded.
type recorder struct {
	journal states.Journal
	results chan recorded

	mu     sync.Mutex
	cond   sync.Cond
	queue  []record
	closed bool
	wg     sync.WaitGroup
}

// record is one journal entry: inst, or the removal of addr when inst is nil. o is the
// operation whose dependents wait for it (nil for entries nothing waits for).
type record struct {
	inst *states.Instance
	addr string
	o    *op
}

type recorded struct {
	o   *op
	err error
}

func newRecorder(j states.Journal) *recorder {
	r := &recorder{journal: j, results: make(chan recorded, recorders)}
	r.cond.L = &r.mu
	for range recorders {
		r.wg.Go(r.work)
	}
	return r
}

// add queues a record; it never blocks, so the walker can always take results.
func (r *recorder) add(rec record) {
	r.mu.Lock()
	r.queue = append(r.queue, rec)
	r.mu.Unlock()
	r.cond.Signal()
}

func (r *recorder) work() {
	for {
		r.mu.Lock()
		for len(r.queue) == 0 && !r.closed {
			r.cond.Wait()
		}
		if len(r.queue) == 0 {
			r.mu.Unlock()
			return
		}
		rec := r.queue[0]
		r.queue[0] = record{}
		r.queue = r.queue[1:]
		r.mu.Unlock()
		var err error
		if rec.inst != nil {
			err = r.journal.Put(rec.inst)
		} else {
			err = r.journal.Remove(rec.addr)
		}
		r.results <- recorded{o: rec.o, err: err}
	}
}

// close stops the workers once the queue is empty. Normally the walker has taken every
// result; when it stopped early (a panic), the results left are discarded so that no
// worker blocks on them.
func (r *recorder) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cond.Broadcast()
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	for {
		select {
		case <-r.results:
		case <-done:
			return
		}
	}
}
