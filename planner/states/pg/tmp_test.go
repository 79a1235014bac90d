package pg

import (
	"sync"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
)

func TestTmpJournal(t *testing.T) {
	const n, workers = 20000, 10
	now := time.Now()
	for _, group := range []bool{true, false} {
		be, _ := lockedBackend(t, states.NewState())
		be.groupCommit = group
		s, _ := be.Load(ctx)
		j, _ := be.Journal(ctx, s)
		t0 := time.Now()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < n; i += workers {
					if err := j.Put(hardwareInstance(i, now)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		t.Logf("group=%v: %v per record, %d batches", group, time.Since(t0)/n, batches)
		batches = 0
	}
}
