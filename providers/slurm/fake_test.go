package slurm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
)

// fakeSlurm writes fake Slurm commands into a directory: scontrol ping answers DOWN and
// squeue fails while the file "down" exists there, sbatch answers id 77 (or prints "reject" and fails when
// that file exists), squeue reports job 77 in the state written in "state" (after a
// pause when "slow" exists) and logs each call to "calls".
func fakeSlurm(t testing.TB) string {
	t.Helper()
	bin := t.TempDir()
	scripts := map[string]string{
		"scontrol": `d=$(dirname "$0"); echo "scontrol $*" >> "$d/calls"
if [ -e "$d/down" ]; then printf 'Slurmctld(primary) at ctl1 is DOWN\n*****\n** RESTORE SLURMCTLD DAEMON TO SERVICE **\n*****\n'; exit 1; fi
echo 'Slurmctld(primary) at ctl1 is UP'`,
		"sbatch": `d=$(dirname "$0"); echo "sbatch $*" >> "$d/calls"
for a in "$@"; do case $a in --job-name=*) echo "${a#--job-name=}" > "$d/jobname";; esac; done
if [ -e "$d/reject" ]; then cat "$d/reject" >&2; exit 1; fi
echo 77`,
		"squeue": `d=$(dirname "$0"); echo "squeue $*" >> "$d/calls"
if [ -e "$d/down" ]; then echo 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)' >&2; exit 1; fi
[ -e "$d/slow" ] && exec sleep 5
echo "77|$(cat "$d/state" 2>/dev/null || echo RUNNING)|0|None|2026-11-29T06:04:08|N/A|node1|$(cat "$d/jobname")|"`,
		"scancel": `d=$(dirname "$0"); echo "scancel $*" >> "$d/calls"; echo CANCELLED > "$d/state"`,
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

func touch(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fakeProvider(t *testing.T, bin string) (*provider, string) {
	t.Helper()
	dir := t.TempDir()
	p := configured(t, dir, map[string]any{"bin_dir": bin, "poll_interval": "20ms", "command_timeout": "1s"})
	return p, dir
}

// submitted applies a create and returns its job id once sbatch answered, with the
// channel of the apply's events.
func startCreate(t *testing.T, ctx context.Context, p *provider, bin string, desired providers.Attrs) chan []providers.Event {
	t.Helper()
	planned := planNew(t, p, "training_job.fake", desired)
	done := make(chan []providers.Event, 1)
	go func() {
		done <- runApply(ctx, p, providers.Change{Address: "training_job.fake", Kind: Kind, Action: providers.ActionCreate, Planned: planned})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if b, _ := os.ReadFile(filepath.Join(bin, "calls")); strings.Contains(string(b), "squeue") {
			return done
		}
		if time.Now().After(deadline) {
			t.Fatal("the job was never polled")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFakeControllerDown(t *testing.T) {
	bin := fakeSlurm(t)
	p, _ := fakeProvider(t, bin)
	touch(t, filepath.Join(bin, "down"), "")
	ev := lastEvent(t, create(t, p, "training_job.fake", jobAttrs("none", 1, 1, 0, "true")))
	want := "cannot submit the job: slurmctld is not responding: Slurmctld(primary) at ctl1 is DOWN"
	if ev.Type != providers.EventFailed || ev.Message != want || ev.ID != "" {
		t.Errorf("create while down = %+v, want failed %q without an id", ev, want)
	}
	if b, _ := os.ReadFile(filepath.Join(bin, "calls")); strings.Contains(string(b), "sbatch") {
		t.Errorf("sbatch ran while slurmctld was down: %s", b)
	}
}

func TestFakeRejected(t *testing.T) {
	bin := fakeSlurm(t)
	p, dir := fakeProvider(t, bin)
	touch(t, filepath.Join(bin, "reject"), "sbatch: error: Batch job submission failed: Requested node configuration is not available\n")
	ev := lastEvent(t, create(t, p, "training_job.fake", jobAttrs("running", 9, 1, 0, "true")))
	if ev.Type != providers.EventFailed || ev.ID != "" ||
		!strings.HasPrefix(ev.Message, "sbatch rejected the job: Batch job submission failed: Requested node configuration is not available (the batch script is "+jobsRoot(dir)) {
		t.Errorf("rejected create = %+v", ev)
	}
	entries, _ := os.ReadDir(jobsRoot(dir))
	if len(entries) != 1 || !released(filepath.Join(jobsRoot(dir), entries[0].Name())) {
		t.Errorf("the rejected job's directory should be kept and released: %v", entries)
	}
}

// TestFakeOutage: a wait whose controller stops answering keeps trying, then fails with
// the job's id and attributes; Read then names slurmctld; a squeue that hangs is cut off
// by command_timeout.
func TestFakeOutage(t *testing.T) {
	bin := fakeSlurm(t)
	p, _ := fakeProvider(t, bin)
	p.grace = 300 * time.Millisecond
	done := startCreate(t, context.Background(), p, bin, jobAttrs("completed", 1, 2, 0, "true"))
	touch(t, filepath.Join(bin, "down"), "")
	events := <-done
	ev := lastEvent(t, events)
	if ev.Type != providers.EventFailed || ev.ID == "" || ev.New == nil || !strings.Contains(ev.Message, "slurmctld is not responding") ||
		!strings.Contains(ev.Message, "is kept in state") {
		t.Fatalf("wait through an outage = %+v", ev)
	}
	if got := attr(t, ev.New, attrSlurmJobID); got != "77" {
		t.Errorf("slurm_job_id = %v, want 77", got)
	}
	r := p.Read(context.Background(), providers.ReadRequest{Items: []providers.ReadItem{{Address: "training_job.fake", Kind: Kind, ID: ev.ID}}}).Results[0]
	if len(r.Diagnostics) != 1 || !strings.Contains(r.Diagnostics[0].Detail, "slurmctld is not responding: Slurmctld(primary) at ctl1 is DOWN") {
		t.Errorf("Read while down = %+v", r)
	}
	if err := os.Remove(filepath.Join(bin, "down")); err != nil {
		t.Fatal(err)
	}
	touch(t, filepath.Join(bin, "slow"), "")
	start := time.Now()
	r = p.Read(context.Background(), providers.ReadRequest{Items: []providers.ReadItem{{Address: "training_job.fake", Kind: Kind, ID: ev.ID}}}).Results[0]
	if len(r.Diagnostics) != 1 || !strings.Contains(r.Diagnostics[0].Detail, "slurmctld is not responding: squeue did not answer within 1s") || time.Since(start) > 4*time.Second {
		t.Errorf("Read with a hanging squeue = %+v after %s", r, time.Since(start))
	}
	os.Remove(filepath.Join(bin, "slow"))
	touch(t, filepath.Join(bin, "state"), "COMPLETED")
	if r := read(t, p, ev.ID); attr(t, r.Attrs, attrStatus) != StatusSucceeded {
		t.Errorf("Read after the outage = %s", r.Attrs)
	}
}

// TestFakeStopDetaches: Stop ends a wait with the job running on, and never cancels it.
func TestFakeStopDetaches(t *testing.T) {
	bin := fakeSlurm(t)
	p, _ := fakeProvider(t, bin)
	done := startCreate(t, context.Background(), p, bin, jobAttrs("completed", 1, 1, 0, "true"))
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev := lastEvent(t, <-done)
	if st := attr(t, ev.New, attrStatus); ev.Type != providers.EventDone || !strings.HasPrefix(ev.Message, "detached: the job keeps running") || (st != StatusRunning && st != StatusPending) {
		t.Errorf("stopped wait = %+v", ev)
	}
	if b, _ := os.ReadFile(filepath.Join(bin, "calls")); strings.Contains(string(b), "scancel") {
		t.Errorf("Stop cancelled the job: %s", b)
	}
}
