package pg

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
)

// The benchmarks run against the test database (scripts/pg-up.sh), over TCP on
// 127.0.0.1. Results are in planner/states/BENCHMARKS.md.

func benchKeyring(b *testing.B, enc bool) *crypt.Keyring {
	if !enc {
		return nil
	}
	k, err := crypt.NewKeyring(crypt.KeySource{Key: crypt.GenerateKey()})
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func BenchmarkLoad100k(b *testing.B) {
	for _, enc := range []bool{false, true} {
		b.Run(fmt.Sprintf("encrypted=%v", enc), func(b *testing.B) {
			be, _ := lockedBackend(b, bigState(100_000), withCrypt(benchKeyring(b, enc)))
			r := reopen(b, be) // a reader: plan, show
			for b.Loop() {
				s, err := r.Load(ctx)
				if err != nil || s.Len() != 100_000 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPersist100k: "full" rewrites all 100,000 rows (the stored state is not
// known: it is read and checked first); "incremental" persists after a Load with one
// instance changed, as apply's final Persist does after the journal recorded the rest.
func BenchmarkPersist100k(b *testing.B) {
	for _, enc := range []bool{false, true} {
		b.Run(fmt.Sprintf("full/encrypted=%v", enc), func(b *testing.B) {
			s := bigState(100_000)
			be, _ := lockedBackend(b, s, withCrypt(benchKeyring(b, enc)))
			for b.Loop() {
				be.forget()
				if err := be.Persist(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("incremental/encrypted=%v", enc), func(b *testing.B) {
			be, _ := lockedBackend(b, bigState(100_000), withCrypt(benchKeyring(b, enc)))
			s, err := be.Load(ctx)
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now().UTC()
			i := 0
			for b.Loop() {
				s.Put(hardwareInstance(i%100_000, now.Add(time.Duration(i)*time.Second)))
				i++
				if err := be.Persist(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJournal records 5,000 completed instances from 10 goroutines, as apply
// does at parallelism 10, and reports the cost per record: with group commit (the
// default) and with one transaction per record.
func BenchmarkJournal(b *testing.B) {
	const n, workers = 5_000, 10
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	insts := make([]*states.Instance, n)
	for i := range insts {
		insts[i] = hardwareInstance(i, now)
	}
	for _, group := range []bool{true, false} {
		b.Run(fmt.Sprintf("group=%v", group), func(b *testing.B) {
			be, _ := lockedBackend(b, states.NewState())
			be.groupCommit = group
			for b.Loop() {
				s, err := be.Load(ctx)
				if err != nil {
					b.Fatal(err)
				}
				j, err := be.Journal(ctx, s)
				if err != nil {
					b.Fatal(err)
				}
				var wg sync.WaitGroup
				for w := range workers {
					wg.Go(func() {
						for i := w; i < n; i += workers {
							if err := j.Put(insts[i]); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				if err := j.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
		})
	}
}
