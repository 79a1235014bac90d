package bench

import (
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/internal/gcpace"
	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/schema"
)

// benchSizes are the configurations BenchmarkValidate measures; the target is
// 100,000 nodes in under 1.5 s and 1 GiB on a 2-core machine, growing linearly.
var benchSizes = []struct {
	name  string
	nodes int
}{{"1k", 1_000}, {"10k", 10_000}, {"100k", 100_000}}

// BenchmarkValidate measures what `fabrica validate` does before rendering: parse and
// decode the files (schema.LoadSources), then build the reference graph, evaluate and
// expand every block, validate and derive every instance and summarize the facilities
// (planner.Evaluate). Generating the files is outside the timer.
//
// Besides ns/op, B/op and allocs/op it reports, per run:
//
//	load-ms/op, eval-ms/op  the two phases' wall time
//	instances/op            resource instances evaluated
//	src-MiB                 size of the generated sources (held during the run)
//	peak-heap-MiB           highest heap in use (live plus not yet swept objects,
//	                        runtime/metrics /memory/classes/heap/objects:bytes)
//	                        sampled every 5 ms while the timer runs, sources included
//	peak-rss-MiB            the process's peak resident set (VmHWM) over the run,
//	                        after returning freed memory to the OS and resetting the
//	                        high-water mark (Linux; absent elsewhere)
//	live-MiB                heap still in use after a full GC with the result alive:
//	                        what the evaluated configuration itself costs
//
// Each run starts after a full GC, so runs do not inherit each other's garbage, and
// paces its collections as the CLI does (internal/gcpace).
func BenchmarkValidate(b *testing.B) {
	for _, style := range []Style{StyleCountPerRack, StyleBlockPerNode} {
		for _, sz := range benchSizes {
			b.Run(style.String()+"/"+sz.name, func(b *testing.B) {
				benchValidate(b, Options{Nodes: sz.nodes, Style: style})
			})
		}
	}
}

func benchValidate(b *testing.B, o Options) {
	files := generated(o)
	src := 0
	for _, f := range files {
		src += len(f)
	}
	var load, eval time.Duration
	var peakHeap, peakRSS, live uint64
	instances := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		runtime.GC()
		debug.FreeOSMemory()
		rssOK := resetPeakRSS()
		s := startHeapSampler(5 * time.Millisecond)
		stopPacing := gcpace.Start(gcpace.Validate) // as the CLI paces its collections
		b.StartTimer()

		t0 := time.Now()
		cfg, diags := schema.LoadSources(files)
		t1 := time.Now()
		if !diags.HasErrors() {
			var ev *planner.Evaluated
			ev, diags = planner.EvaluateForValidation(cfg, planner.InputVars{}) // as validate does
			if ev != nil {
				instances = len(ev.Instances)
			}
			t2 := time.Now()
			b.StopTimer()
			stopPacing()
			load += t1.Sub(t0)
			eval += t2.Sub(t1)
			peakHeap = max(peakHeap, s.stop())
			if rssOK {
				peakRSS = max(peakRSS, readPeakRSS())
			}
			runtime.GC()
			live = max(live, heapObjects())
			runtime.KeepAlive(ev)
		} else {
			b.StopTimer()
			stopPacing()
			s.stop()
		}
		if diags.HasErrors() {
			for _, d := range diags.Errors()[:min(5, len(diags.Errors()))] {
				b.Logf("%s: %s", d.Summary, d.Detail)
			}
			b.Fatalf("the generated configuration has %d errors", len(diags.Errors()))
		}
		b.StartTimer()
	}
	b.StopTimer()
	const mib = 1 << 20
	n := float64(b.N)
	b.ReportMetric(float64(load.Microseconds())/1e3/n, "load-ms/op")
	b.ReportMetric(float64(eval.Microseconds())/1e3/n, "eval-ms/op")
	b.ReportMetric(float64(instances), "instances/op")
	b.ReportMetric(float64(src)/mib, "src-MiB")
	b.ReportMetric(float64(peakHeap)/mib, "peak-heap-MiB")
	if peakRSS > 0 {
		b.ReportMetric(float64(peakRSS)/mib, "peak-rss-MiB")
	}
	b.ReportMetric(float64(live)/mib, "live-MiB")
}

// generated caches the last generated configuration: the benchmark function runs more
// than once per size (b.N = 1, then the requested count), and only one is kept so a
// large configuration does not inflate the next size's memory figures.
var genCache struct {
	sync.Mutex
	o     Options
	files map[string][]byte
}

func generated(o Options) map[string][]byte {
	genCache.Lock()
	defer genCache.Unlock()
	if genCache.files == nil || genCache.o != o {
		genCache.files = nil
		runtime.GC()
		genCache.o, genCache.files = o, Generate(o)
	}
	return genCache.files
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

func heapObjects() uint64 {
	metrics.Read(heapSample)
	return heapSample[0].Value.Uint64()
}

// heapSampler polls the heap in use in a goroutine and keeps the highest value.
type heapSampler struct {
	done chan struct{}
	peak chan uint64
}

func startHeapSampler(every time.Duration) *heapSampler {
	s := &heapSampler{done: make(chan struct{}), peak: make(chan uint64)}
	go func() {
		samples := []metrics.Sample{{Name: heapSample[0].Name}}
		read := func() uint64 { metrics.Read(samples); return samples[0].Value.Uint64() }
		peak := read()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				peak = max(peak, read())
			case <-s.done:
				s.peak <- max(peak, read())
				return
			}
		}
	}()
	return s
}

func (s *heapSampler) stop() uint64 {
	close(s.done)
	return <-s.peak
}

// resetPeakRSS resets the kernel's record of this process's peak resident set size
// (VmHWM), so readPeakRSS measures from now on. It reports whether that worked.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// readPeakRSS returns VmHWM from /proc/self/status in bytes, or 0.
func readPeakRSS() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			f := bytes.Fields(rest)
			if len(f) == 2 && string(f[1]) == "kB" {
				kb, _ := strconv.ParseUint(string(f[0]), 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
