package local

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
)

// hardwareInstance returns a hardware instance shaped like the sim provider's, with 15
// attributes.
func hardwareInstance(i int, now time.Time) *states.Instance {
	rack := fmt.Sprintf("rack.r[%d]", i/32)
	attrs := fmt.Sprintf(`{"cooling":"liquid","facility":"dc1","gpu_count":8,"gpu_memory_gb":80,"gpu_model":"H100-SXM5","hostname":"node-%06d","max_power_kw":10.2,"nic_count":8,"nic_speed_gbps":400,"os_image":"ubuntu-22.04@sha256:3f5ad1e0c2b4","rack":"%s","rack_unit":%d,"serial":"SN%08d","status":"active","tenant":"team-a"}`,
		i, rack, i%32, i)
	return &states.Instance{
		Address:      fmt.Sprintf("hardware.node[%d]", i),
		Kind:         "hardware",
		Provider:     "sim",
		ID:           fmt.Sprintf("hw-%06d", i),
		Attrs:        []byte(attrs),
		AttrsHash:    fmt.Sprintf("%032x", i*7919),
		ConfigHash:   fmt.Sprintf("%032x", i*104729),
		Dependencies: []string{rack},
		CreatedAt:    now,
		UpdatedAt:    now.Add(time.Duration(i) * time.Millisecond),
	}
}

func bigState(n int) *states.State {
	s := states.NewState()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		s.Put(hardwareInstance(i, now))
	}
	return s
}

// lockedBackend returns a backend on a new directory, locked, with s persisted.
func lockedBackend(tb testing.TB, s *states.State) (*Backend, string) {
	tb.Helper()
	b := New(filepath.Join(tb.TempDir(), "state.json"))
	id, err := b.Lock(context.Background(), states.NewLockInfo("test"))
	if err != nil {
		tb.Fatal(err)
	}
	if s != nil {
		if err := b.Persist(context.Background(), s); err != nil {
			tb.Fatal(err)
		}
	}
	return b, id
}

func BenchmarkLoad100k(b *testing.B) {
	be, _ := lockedBackend(b, bigState(100_000))
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		s, err := be.Load(ctx)
		if err != nil || s.Len() != 100_000 {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoad100kEncrypted(b *testing.B) {
	be, _ := lockedBackend(b, nil)
	be.Crypt = keyring(b, newKey())
	if err := be.Persist(context.Background(), bigState(100_000)); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		s, err := be.Load(ctx)
		if err != nil || s.Len() != 100_000 {
			b.Fatal(err)
		}
	}
}

func BenchmarkPersist100kEncrypted(b *testing.B) {
	s := bigState(100_000)
	be, _ := lockedBackend(b, nil)
	be.Crypt = keyring(b, newKey())
	ctx := context.Background()
	for b.Loop() {
		if err := be.Persist(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPersist100k(b *testing.B) {
	s := bigState(100_000)
	be, _ := lockedBackend(b, s)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if err := be.Persist(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJournal100k records 100,000 completed instances from 10 goroutines, as
// apply does at parallelism 10, then closes the journal (which syncs it to disk). It
// also reports the cost per record.
func BenchmarkJournal100k(b *testing.B) {
	const n, workers = 100_000, 10
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	insts := make([]*states.Instance, n)
	for i := range insts {
		insts[i] = hardwareInstance(i, now)
	}
	be, _ := lockedBackend(b, states.NewState())
	ctx := context.Background()
	b.ResetTimer()
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
		b.StopTimer()
		if err := be.Persist(ctx, states.NewState()); err == nil {
			b.Fatal("persist of another lineage succeeded")
		}
		s.Serial = 0
		clearJournal(b, be)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}

func clearJournal(tb testing.TB, be *Backend) {
	tb.Helper()
	s, err := be.Load(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, a := range s.Addresses() {
		_ = s.Remove(a)
	}
	if err := be.Persist(context.Background(), s); err != nil {
		tb.Fatal(err)
	}
}
