package policies

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCheck checks a SuperPOD-shaped plan of 1,000, 10,000 and 100,000 hardware
// instances (synthPlan) with the bundled policies: decoding the plan JSON, evaluating
// every rule and building the report. Besides time and allocations it reports the plan
// size (plan-MiB), the peak of the Go heap while checking, the plan's bytes included
// (peak-heap-MiB), and the CPU time of the process per check (cpu-ms/op, GC workers
// included), which depends less on the machine's load than wall time.
func BenchmarkCheck(b *testing.B) {
	e, diags := Load(context.Background(), Options{Now: func() time.Time { return time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC) }})
	if diags.HasErrors() {
		b.Fatal(diags.Err())
	}
	for _, size := range []struct {
		name string
		n    int
	}{{"1k", 1000}, {"10k", 10000}, {"100k", 100000}} {
		plan := synthPlan(size.n)
		b.Run(size.name, func(b *testing.B) {
			b.ReportAllocs()
			runtime.GC()
			sampler := startHeapSampler()
			cpu := cpuTime()
			b.ResetTimer()
			for range b.N {
				r, err := e.Check(context.Background(), plan)
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Findings) != 0 {
					b.Fatalf("unexpected findings: %+v", r.Findings)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(sampler.stop())/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(len(plan))/(1<<20), "plan-MiB")
		})
	}
}

// heapSampler records the peak of the heap's object bytes (live and not yet collected).
type heapSampler struct {
	peak atomic.Uint64
	done chan struct{}
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > s.peak.Load() {
			s.peak.Store(v)
		}
	}
	read()
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return s
}

func (s *heapSampler) stop() uint64 {
	close(s.done)
	return s.peak.Load()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
