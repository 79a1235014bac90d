package slurm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// The benchmark submits, reads and cancels 100 jobs through the provider and the same
// through bare sbatch/squeue/scancel, on the cluster of scripts/slurm-up.sh:
//
//	go test -run '^$' -bench Slurm -benchtime 1x ./providers/slurm
//
// Figures are in BENCHMARKS.md.

const benchJobs = 100

// phases are the wall times of one run of 100 jobs.
type phases struct {
	submit  time.Duration        // every job submitted (sbatch answered)
	running []time.Duration      // per job: from its submission to seen running
	seen    map[string]time.Time // Slurm id → when seen running
	read    time.Duration        // one refresh of all of them
	cancel  time.Duration        // every job cancelled and seen ended
}

func BenchmarkSlurm100Jobs(b *testing.B) {
	c := slurmCluster(b)
	for range b.N {
		idle(b, c)
		fab := benchFabrica(b, c)
		idle(b, c)
		bare := benchBare(b, c, nil)
		idle(b, c)
		same := benchBare(b, c, sameScript(b, c))
		report := func(key, name string, f, s, s2 time.Duration, per bool) {
			unit := "ms"
			if per {
				f, s, s2, unit = f/benchJobs, s/benchJobs, s2/benchJobs, "ms/job"
			}
			b.ReportMetric(ms(f), "fabrica-"+key+"-"+unit)
			b.ReportMetric(ms(s), "bare-"+key+"-"+unit)
			b.Logf("%-30s fabrica %7.1f   bare sbatch %7.1f   bare, fabrica's script %7.1f  %s", name, ms(f), ms(s), ms(s2), unit)
		}
		report("submit", "submit 100", fab.submit, bare.submit, same.submit, true)
		report("running-p50", "submit→running p50", pct(fab.running, 50), pct(bare.running, 50), pct(same.running, 50), false)
		report("running-p95", "submit→running p95", pct(fab.running, 95), pct(bare.running, 95), pct(same.running, 95), false)
		if fl, bl, sl := startLag(b, fab.seen), startLag(b, bare.seen), startLag(b, same.seen); len(fl) > 0 && len(bl) > 0 && len(sl) > 0 {
			report("seen-after-start-p50", "seen running after start p50", pct(fl, 50), pct(bl, 50), pct(sl, 50), false)
			report("seen-after-start-p95", "seen running after start p95", pct(fl, 95), pct(bl, 95), pct(sl, 95), false)
		}
		report("read", "read 100 (one refresh)", fab.read, bare.read, same.read, false)
		report("cancel", "cancel 100", fab.cancel, bare.cancel, same.cancel, true)
		single := benchSingle(b, c)
		b.Logf("single job on an idle cluster, 10 runs: fabrica create (wait none) %.1f ms, bare sbatch %.1f ms; submit→running fabrica %.0f ms, bare %.0f ms",
			ms(single[0]), ms(single[1]), ms(single[2]), ms(single[3]))
	}
}

// sameScript writes the batch script and rank wrapper the provider renders for a 1 × 1
// `sleep 600` job, and returns the sbatch arguments that submit them as it does: the
// baseline for what the provider itself adds, as opposed to its scripts.
func sameScript(b *testing.B, c *cluster) []string {
	dir := b.TempDir()
	j := &jobFile{ID: "bare-bench", Address: "training_job.bare", dir: dir, Spec: launch.Spec{Nodes: 1, ProcsPerNode: 1,
		Command: []string{"sleep", "600"}, RunID: "bare-bench", WorkDir: dir, CheckpointDir: filepath.Join(dir, checkpointsDir)}}
	opts := sbatchOptions(config{Partition: c.Partition, TimeLimit: 10 * time.Minute}, j)
	if err := os.WriteFile(filepath.Join(dir, scriptFile), []byte(batchScript(j, opts)), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, rankScript), []byte(rankWrapper(j)), 0o755); err != nil {
		b.Fatal(err)
	}
	return append(append([]string{"--parsable"}, opts...), filepath.Join(dir, scriptFile))
}

// benchFabrica creates 100 jobs in one apply (wait running), reads them, deletes them.
func benchFabrica(b *testing.B, c *cluster) phases {
	p, _ := c.provider(b, map[string]any{"poll_interval": "50ms"})
	ph := phases{seen: map[string]time.Time{}}
	changes := make([]providers.Change, benchJobs)
	for i := range changes {
		addr := fmt.Sprintf("training_job.bench[%d]", i)
		changes[i] = providers.Change{Address: addr, Kind: Kind, Action: providers.ActionCreate,
			Planned: planNew(b, p, addr, jobAttrs("running", 1, 1, 0, "sleep", "600"))}
	}
	submitted := map[string]time.Time{}
	var items []providers.ReadItem
	var lastSubmit time.Time
	start := time.Now()
	events := make(chan providers.Event, 16)
	go func() {
		in := make(chan providers.Change, benchJobs)
		for _, ch := range changes {
			in <- ch
		}
		close(in)
		_ = p.Apply(context.Background(), in, events)
		close(events)
	}()
	for e := range events {
		switch {
		case e.Stage == "submitted":
			submitted[e.Address], lastSubmit = time.Now(), time.Now()
		case e.Type == providers.EventDone:
			ph.running = append(ph.running, time.Since(submitted[e.Address]))
			ph.seen[attr(b, e.New, attrSlurmJobID).(string)] = time.Now()
			items = append(items, providers.ReadItem{Address: e.Address, Kind: Kind, ID: e.ID})
		case e.Type == providers.EventFailed:
			b.Fatalf("create failed: %+v", e)
		}
	}
	ph.submit = lastSubmit.Sub(start)
	time.Sleep(2 * time.Second) // let the jobs' processes settle, as the bare run does
	var resp providers.ReadResponse
	ph.read = median5(func() { resp = p.Read(context.Background(), providers.ReadRequest{Items: items}) })
	for _, r := range resp.Results {
		if len(r.Diagnostics) > 0 || attr(b, r.Attrs, attrStatus) != StatusRunning {
			b.Fatalf("read %+v", r)
		}
	}
	deletes := make([]providers.Change, len(items))
	for i, it := range items {
		deletes[i] = providers.Change{Address: it.Address, Kind: Kind, Action: providers.ActionDelete, ID: it.ID}
	}
	start = time.Now()
	for _, e := range runApply(context.Background(), p, deletes...) {
		if e.Type == providers.EventFailed {
			b.Fatalf("delete failed: %+v", e)
		}
	}
	ph.cancel = time.Since(start)
	return ph
}

// benchBare does the same with the Slurm commands: 100 concurrent sbatch (8 at a time,
// as the provider runs them) of `srun sleep 600`, or with args when set while one squeue every 50 ms watches those submitted so
// far, until all run; one squeue; 100 concurrent scancel and one squeue every 50 ms
// until all ended.
func benchBare(b *testing.B, c *cluster, args []string) phases {
	var ph phases
	dir := b.TempDir()
	cmd := func(name string, args ...string) string {
		out, err := exec.Command(filepath.Join(c.BinDir, name), args...).Output()
		if err != nil {
			b.Fatalf("%s %v: %v", name, args, err)
		}
		return strings.TrimSpace(string(out))
	}
	b.Cleanup(func() { _ = exec.Command(filepath.Join(c.BinDir, "scancel"), "--name=bare-bench").Run() })
	if args == nil {
		args = []string{"--parsable", "--job-name=bare-bench", "--nodes=1", "--ntasks-per-node=1", "--time=10",
			"--output=" + filepath.Join(dir, "%j.log"), "--wrap", "srun --kill-on-bad-exit=1 sleep 600"}
	}
	var mu sync.Mutex
	submitted := map[string]time.Time{}
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxCommands)
	start := time.Now()
	for range benchJobs {
		wg.Go(func() {
			slots <- struct{}{}
			id := cmd("sbatch", args...)
			<-slots
			mu.Lock()
			submitted[id] = time.Now()
			mu.Unlock()
		})
	}
	ph.running, ph.seen = watchRunning(cmd, &mu, submitted)
	wg.Wait()
	ids := make([]string, 0, benchJobs)
	var last time.Time
	for id, at := range submitted {
		ids = append(ids, id)
		if at.After(last) {
			last = at
		}
	}
	ph.submit = last.Sub(start)
	list := strings.Join(ids, ",")
	time.Sleep(2 * time.Second)
	ph.read = median5(func() { cmd("squeue", "-h", "-t", "all", "-j", list, "-o", "%i|%T") })
	start = time.Now()
	for _, id := range ids {
		wg.Go(func() {
			slots <- struct{}{}
			cmd("scancel", id)
			<-slots
		})
	}
	wg.Wait()
	for {
		states := cmd("squeue", "-h", "-t", "all", "-j", list, "-o", "%T")
		if !strings.Contains(states, "RUNNING") && !strings.Contains(states, "COMPLETING") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	ph.cancel = time.Since(start)
	return ph
}

// idle waits until Slurm runs no job, then 3 s more, so that each phase starts from
// an idle cluster.
func idle(b *testing.B, c *cluster) {
	for {
		out, err := exec.Command(filepath.Join(c.BinDir, "squeue"), "-h", "-o", "%i").Output()
		if err == nil && strings.TrimSpace(string(out)) == "" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
}

// ctldLog is the test cluster's slurmctld log (scripts/slurm-up.sh), which has the time
// Slurm allocated each job, to the millisecond.
const ctldLog = "/var/log/slurm/slurmctld.log"

var allocLine = regexp.MustCompile(`(?m)^\[(\d{4}-\d\d-\d\dT[\d:.]+)\] sched: Allocate JobId=(\d+) `)

// startLag returns, for each job seen running, how long after Slurm allocated it (its
// own start) it was seen: the cost of watching, beyond the scheduler's time. Nil when
// the log cannot be read.
func startLag(b *testing.B, seen map[string]time.Time) []time.Duration {
	text, err := os.ReadFile(ctldLog)
	if err != nil {
		b.Logf("no %s (%v): no start lag", ctldLog, err)
		return nil
	}
	var lags []time.Duration
	for _, m := range allocLine.FindAllStringSubmatch(string(text), -1) {
		at, err := time.ParseInLocation("2006-01-02T15:04:05.000", m[1], time.Local)
		if t, ok := seen[m[2]]; ok && err == nil {
			lags = append(lags, t.Sub(at))
		}
	}
	return lags
}

// watchRunning polls squeue every 50 ms for the jobs submitted so far until all
// benchJobs run, and returns each one's time from submission to seen running.
func watchRunning(cmd func(string, ...string) string, mu *sync.Mutex, submitted map[string]time.Time) ([]time.Duration, map[string]time.Time) {
	var running []time.Duration
	seen := map[string]time.Time{}
	for len(seen) < benchJobs {
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		var ids []string
		for id := range submitted {
			ids = append(ids, id)
		}
		mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		for _, line := range strings.Split(cmd("squeue", "-h", "-t", "all", "-j", strings.Join(ids, ","), "-o", "%i|%T"), "\n") {
			id, state, _ := strings.Cut(line, "|")
			if _, ok := seen[id]; state == "RUNNING" && !ok {
				seen[id] = time.Now()
				mu.Lock()
				running = append(running, time.Since(submitted[id]))
				mu.Unlock()
			}
		}
	}
	return running, seen
}

// benchSingle measures one job at a time on the idle cluster, 10 times: the wall time
// of a create with wait none against a bare sbatch, and submit→running of each.
func benchSingle(b *testing.B, c *cluster) [4]time.Duration {
	p, _ := c.provider(b, map[string]any{"poll_interval": "20ms"})
	var sum [4]time.Duration
	const runs = 10
	for i := range runs {
		addr := fmt.Sprintf("training_job.single[%d]", i)
		planned := planNew(b, p, addr, jobAttrs("none", 1, 1, 0, "sleep", "600"))
		start := time.Now()
		ev := lastEvent(b, runApply(context.Background(), p, providers.Change{Address: addr, Kind: Kind, Action: providers.ActionCreate, Planned: planned}))
		sum[0] += time.Since(start)
		start = time.Now()
		planned = withAttr(b, planned, "wait", "running")
		runApply(context.Background(), p, providers.Change{Address: addr, Kind: Kind, Action: providers.ActionUpdate, ID: ev.ID, Prior: ev.New, Planned: planned})
		sum[2] += time.Since(start)
		remove(b, p, addr, ev.ID, ev.New)

		start = time.Now()
		out, err := exec.Command(filepath.Join(c.BinDir, "sbatch"), "--parsable", "--job-name=bare-single", "--nodes=1", "--ntasks-per-node=1",
			"--time=10", "-o", "/dev/null", "--wrap", "srun --kill-on-bad-exit=1 sleep 600").Output()
		sum[1] += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		id := strings.TrimSpace(string(out))
		for {
			st, _ := exec.Command(filepath.Join(c.BinDir, "squeue"), "-h", "-j", id, "-o", "%T").Output()
			if strings.TrimSpace(string(st)) == "RUNNING" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		sum[3] += time.Since(start)
		_ = exec.Command(filepath.Join(c.BinDir, "scancel"), id).Run()
		for { // as remove does for the provider's job: wait until Slurm reports it ended
			st, _ := exec.Command(filepath.Join(c.BinDir, "squeue"), "-h", "-t", "all", "-j", id, "-o", "%T").Output()
			if s := strings.TrimSpace(string(st)); s != "RUNNING" && s != "COMPLETING" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for i := range sum {
		sum[i] /= runs
	}
	return sum
}

// median5 runs f five times and returns the median duration.
func median5(f func()) time.Duration {
	ds := make([]time.Duration, 5)
	for i := range ds {
		start := time.Now()
		f()
		ds[i] = time.Since(start)
	}
	return pct(ds, 50)
}

// BenchmarkCreateFake measures the provider's own cost of a create (wait none) and of a
// Read of 100 jobs, against fake Slurm commands that answer at once: what fabrica adds
// to every job, whatever the scheduler.
func BenchmarkCreateFake(b *testing.B) {
	bin := fakeSlurm(b)
	dir := b.TempDir()
	p := configured(b, dir, map[string]any{"bin_dir": bin})
	planned := planNew(b, p, "training_job.fake", jobAttrs("none", 1, 1, 0, "true"))
	var ids []providers.ReadItem
	b.ResetTimer()
	for range b.N {
		ev := lastEvent(b, runApply(context.Background(), p, providers.Change{Address: "training_job.fake", Kind: Kind, Action: providers.ActionCreate, Planned: planned}))
		if ev.Type != providers.EventDone {
			b.Fatal(ev)
		}
		ids = append(ids, providers.ReadItem{Address: "training_job.fake", Kind: Kind, ID: ev.ID})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pct returns the p-th percentile of ds.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)]
}

// BenchmarkReadFake100 measures the provider's own cost of reading 100 running jobs,
// against a fake squeue that answers at once.
func BenchmarkReadFake100(b *testing.B) {
	bin := b.TempDir()
	writeScript(b, filepath.Join(bin, "scontrol"), "echo 'Slurmctld(primary) at ctl1 is UP'")
	writeScript(b, filepath.Join(bin, "sbatch"), "exit 1")
	writeScript(b, filepath.Join(bin, "squeue"), `while [ $# -gt 0 ]; do [ "$1" = --jobs ] && ids=$2; shift; done
for id in $(echo "$ids" | tr , ' '); do echo "$id|RUNNING|0|None|2026-11-29T06:04:08|N/A|node1|job-$id|"; done`)
	dir := b.TempDir()
	p := configured(b, dir, map[string]any{"bin_dir": bin})
	var items []providers.ReadItem
	for i := range benchJobs {
		id := fmt.Sprintf("job-%d", 1000+i)
		j := &jobFile{FormatVersion: jobFormat, ID: id, Address: "training_job.r", SlurmID: fmt.Sprint(1000 + i),
			Launch: rawJSON(map[string]any{"layout": "1 node × 1 process"}), Attrs: jobAttrs("none", 1, 1, 0, "true"), dir: JobDir(dir, id)}
		if err := os.MkdirAll(j.dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := writeJob(j); err != nil {
			b.Fatal(err)
		}
		items = append(items, providers.ReadItem{Address: "training_job.r", Kind: Kind, ID: id})
	}
	b.ResetTimer()
	for range b.N {
		resp := p.Read(context.Background(), providers.ReadRequest{Items: items})
		if attr(b, resp.Results[99].Attrs, attrStatus) != StatusRunning {
			b.Fatalf("%+v", resp.Results[99])
		}
	}
}

func writeScript(b testing.TB, path, body string) {
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		b.Fatal(err)
	}
}
