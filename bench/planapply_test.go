package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	fabBin    string
	buildErr  error
)

// fabricaBinary builds the CLI once per test process.
func fabricaBinary(b *testing.B) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fabrica-bench-")
		if err != nil {
			buildErr = err
			return
		}
		fabBin = filepath.Join(dir, "fabrica")
		out, err := exec.Command("go", "build", "-o", fabBin, "../cmd/fabrica").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return fabBin
}

// timed runs fabrica and returns its wall time and peak RSS (MiB). The peak is VmHWM
// of the running process, polled: the rusage of a child counts the peak this (large)
// test process had when it forked, not the child's own.
func timed(b *testing.B, bin, dir string, wantCode int, args ...string) (time.Duration, float64) {
	b.Helper()
	cmd := exec.Command(bin, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	logf, _ := os.Create(filepath.Join(dir, "out.log"))
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	peak := make(chan float64, 1)
	go func() {
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		kb := 0.0
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if v, ok := vmHWM(status); ok {
				kb = max(kb, v)
			}
			select {
			case <-done:
				peak <- kb / 1024
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	wall := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		b.Fatal(err)
	}
	if code != wantCode {
		out, _ := os.ReadFile(filepath.Join(dir, "out.log"))
		if len(out) > 4000 {
			out = out[len(out)-4000:]
		}
		b.Fatalf("fabrica %v: exit %d, want %d\n%s", args, code, wantCode, out)
	}
	return wall, <-peak
}

// vmHWM reads the peak resident set size (kB) from a /proc/PID/status file.
func vmHWM(path string) (float64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb, err == nil
		}
	}
	return 0, false
}

// BenchmarkPlanApply drives the real CLI (providers as plugins, state on disk) through
// plan from empty state, apply of that plan, and a plan with nothing changed (refresh
// included), on generated configurations with the sim provider at zero latency.
func BenchmarkPlanApply(b *testing.B) {
	bin := fabricaBinary(b)
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			o := Options{Nodes: sz.nodes, Style: StyleCountPerRack, NoJobs: true}
			// Means over the b.N runs (ReportMetric keeps only the last value it is
			// given), and the highest peak.
			var planEmptySum, applySum, planSameSum time.Duration
			var peak, stateMiB float64
			for range b.N {
				dir := b.TempDir()
				for name, src := range Generate(o) {
					if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
						b.Fatal(err)
					}
				}
				planEmpty, rss1 := timed(b, bin, dir, 2, "plan", "--detailed-exitcode", "--out", filepath.Join(dir, "p.plan"))
				apply, rss2 := timed(b, bin, dir, 0, "apply", filepath.Join(dir, "p.plan"))
				planSame, rss3 := timed(b, bin, dir, 0, "plan", "--detailed-exitcode")
				st, _ := os.Stat(filepath.Join(dir, ".fabrica", "state.json"))
				planEmptySum, applySum, planSameSum = planEmptySum+planEmpty, applySum+apply, planSameSum+planSame
				peak, stateMiB = max(peak, rss1, rss2, rss3), float64(st.Size())/(1<<20)
			}
			n := float64(b.N)
			b.ReportMetric(float64(planEmptySum.Milliseconds())/n, "plan-empty-ms")
			b.ReportMetric(float64(applySum.Milliseconds())/n, "apply-ms")
			b.ReportMetric(float64(planSameSum.Milliseconds())/n, "plan-nochange-ms")
			b.ReportMetric(peak, "peak-rss-MiB")
			b.ReportMetric(stateMiB, "state-MiB")
			b.ReportMetric(float64(o.Shape().Instances), "instances")
		})
	}
}

// BenchmarkApplyCriticalPath applies a facility, 40 servers and a fabric with the sim
// provider at latency L and parallelism P, and reports the apply walk's time against the
// critical-path bound: L (facility) + ⌈40/P⌉·L (servers) + L (fabric).
func BenchmarkApplyCriticalPath(b *testing.B) {
	bin := fabricaBinary(b)
	const nodes, parallelism = 40, 10
	const latency = 100 * time.Millisecond
	src := fmt.Sprintf(`
provider "sim" {
  latency = "%s"
}
facility "f" {
  it_power_kw = 100
  design_pue  = 1.2
}
hardware "n" {
  count       = %d
  facility    = facility.f
  device_type = "cpu-server"
  rack        = "r${count.index %% 4}"
}
fabric "lan" {
  facility  = facility.f
  transport = "ethernet"
  endpoints = hardware.n
}
`, latency, nodes)
	bound := latency * time.Duration(2+(nodes+parallelism-1)/parallelism)
	sum := 0.0
	for range b.N {
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.fab.hcl"), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
		timed(b, bin, dir, 0, "apply", "--auto-approve", "--parallelism", fmt.Sprint(parallelism))
		sum += applySeconds(b, dir)
	}
	secs := sum / float64(b.N) // the mean: ReportMetric keeps only the last value it is given
	b.ReportMetric(secs*1000, "apply-ms")
	b.ReportMetric(float64(bound.Milliseconds()), "bound-ms")
	b.ReportMetric(secs/bound.Seconds(), "ratio")
}
