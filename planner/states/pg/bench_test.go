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

// BenchmarkApplyOverhead simulates apply at parallelism 10: 10 workers each take a
// resource, spend latency on it (the provider's work), then journal it. It reports how
// much longer that takes than the same walk without the journal ("overhead-%"), and
// the mean Put latency. sync=off shows what synchronous_commit = off on the lock's
// session would save (the backend always commits synchronously).
func BenchmarkApplyOverhead(b *testing.B) {
	const n, workers = 400, 10
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, latency := range []time.Duration{0, 2 * time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond} {
		for _, async := range []bool{false, true} {
			b.Run(fmt.Sprintf("latency=%v/sync=%v", latency, map[bool]string{false: "on", true: "off"}[async]), func(b *testing.B) {
				be, _ := lockedBackend(b, states.NewState())
				if async {
					be.lock.conn.Exec(ctx, "SET synchronous_commit = off")
				}
				walk := func(put func(*states.Instance) error) (time.Duration, time.Duration) {
					next := make(chan int, n)
					for i := range n {
						next <- i
					}
					close(next)
					var putTime atomic64
					start := time.Now()
					var wg sync.WaitGroup
					for range workers {
						wg.Go(func() {
							for i := range next {
								time.Sleep(latency)
								t0 := time.Now()
								if err := put(hardwareInstance(i, now)); err != nil {
									b.Error(err)
									return
								}
								putTime.add(time.Since(t0))
							}
						})
					}
					wg.Wait()
					return time.Since(start), putTime.get() / n
				}
				var base, with, put time.Duration
				for b.Loop() {
					t, _ := walk(func(*states.Instance) error { return nil })
					base += t
					s, err := be.Load(ctx)
					if err != nil {
						b.Fatal(err)
					}
					j, err := be.Journal(ctx, s)
					if err != nil {
						b.Fatal(err)
					}
					t, p := walk(j.Put)
					with += t
					put += p
					if err := j.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(100*float64(with-base)/float64(base), "overhead-%")
				b.ReportMetric(float64(put.Microseconds())/float64(b.N), "put-µs")
			})
		}
	}
}

// atomic64 sums durations from several goroutines.
type atomic64 struct {
	mu sync.Mutex
	d  time.Duration
}

func (a *atomic64) add(d time.Duration) { a.mu.Lock(); a.d += d; a.mu.Unlock() }
func (a *atomic64) get() time.Duration  { a.mu.Lock(); defer a.mu.Unlock(); return a.d }
