package slurm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
)

// These tests run against the real Slurm cluster of scripts/slurm-up.sh (see
// slurmCluster).

// TestSlurmEnvContract submits a job of 2 nodes × 2 tasks that prints its environment,
// waits for it to complete, and checks the torchrun contract of every rank from its log.
func TestSlurmEnvContract(t *testing.T) {
	c := slurmCluster(t)
	if c.Nodes < 2 {
		t.Skipf("needs 2 nodes, the cluster has %d", c.Nodes)
	}
	p, dir := c.provider(t, nil)
	desired := withAttr(t, jobAttrs("completed", 2, 2, 0, "sh", "-c", "env | sort; echo SLURMD_NODENAME=$SLURMD_NODENAME; echo rank $RANK says hello"),
		"env", map[string]string{"GREETING": "hi there"})
	events := create(t, p, "training_job.contract", desired)
	ev := lastEvent(t, events)
	if ev.Type != providers.EventDone || attr(t, ev.New, attrStatus) != StatusSucceeded {
		t.Fatalf("final event = %+v (%s)", ev, ev.New)
	}
	if !strings.Contains(strings.Join(logLines(events), "\n"), "rank 0 says hello") {
		t.Errorf("no rank-0 log lines in the events: %q", logLines(events))
	}
	slurmID := attr(t, ev.New, attrSlurmJobID).(string)
	port := strconv.Itoa(MasterPort(slurmID))
	for rank := range 4 {
		env := envMap(strings.Split(readLog(t, dir, ev.ID, rank), "\n"))
		node, local := rank/2, rank%2
		want := map[string]string{
			"RANK": strconv.Itoa(rank), "LOCAL_RANK": strconv.Itoa(local), "WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2",
			"GROUP_RANK": strconv.Itoa(node), "GROUP_WORLD_SIZE": "2", "ROLE_RANK": strconv.Itoa(rank), "ROLE_NAME": "default",
			"ROLE_WORLD_SIZE": "4", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "TORCHELASTIC_RESTART_COUNT": "0",
			"TORCHELASTIC_MAX_RESTARTS": "0", "TORCHELASTIC_RUN_ID": ev.ID, "FABRICA_RUN_ID": ev.ID, "FABRICA_JOB_ID": slurmID,
			"FABRICA_CHECKPOINT_DIR": filepath.Join(JobDir(dir, ev.ID), checkpointsDir), "GREETING": "hi there",
			"SLURMD_NODENAME": c.NodeNames[node],
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("rank %d: %s = %q, want %q", rank, k, env[k], v)
			}
		}
	}
	if r := read(t, p, ev.ID); attr(t, r.Attrs, attrStatus) != StatusSucceeded || attr(t, r.Attrs, attrExitCode) != 0.0 {
		t.Errorf("Read = %s", r.Attrs)
	}
}

// TestSlurmFailingRank: a rank that exits 3 fails the job with exit code 3 and that
// rank, after the group was restarted max_restarts times.
func TestSlurmFailingRank(t *testing.T) {
	c := slurmCluster(t)
	p, dir := c.provider(t, nil)
	desired := jobAttrs("completed", 1, 2, 1, "sh", "-c", `echo "attempt $TORCHELASTIC_RESTART_COUNT"; if [ "$RANK" = 1 ]; then exit 3; fi; sleep 60`)
	ev := lastEvent(t, create(t, p, "training_job.failing", desired))
	if ev.Type != providers.EventFailed || ev.ID == "" {
		t.Fatalf("final event = %+v", ev)
	}
	want := fmt.Sprintf("rank 1 exited with code 3 after 1 restart (see fabrica logs training_job.failing --rank 1)")
	if ev.Message != want || attr(t, ev.New, attrExitCode) != 3.0 || attr(t, ev.New, attrFailingRank) != 1.0 ||
		attr(t, ev.New, attrRestarts) != 1.0 || attr(t, ev.New, attrStatus) != StatusFailed {
		t.Errorf("failed job: message %q (want %q), attributes %s", ev.Message, want, ev.New)
	}
	if log := readLog(t, dir, ev.ID, 0); !strings.Contains(log, "----- fabrica: restart 1 of 1 (rank 1 exited with code 3) -----\nattempt 1") {
		t.Errorf("rank-0.log does not show the restart:\n%s", log)
	}
	// The next plan replaces the failed job, saying why.
	resp := p.Plan(context.Background(), providers.PlanRequest{Items: []providers.PlanItem{{Address: "training_job.failing", Kind: Kind, ID: ev.ID, Prior: ev.New, Desired: desired}}})
	pc := resp.Changes[0]
	if strings.Join(pc.RequiresReplace, ",") != "status" || !strings.Contains(stringAttrOf(t, pc.Planned, attrStatusReason), "which failed: rank 1 exited with code 3") {
		t.Errorf("plan after failure = %+v (%s)", pc, pc.Planned)
	}
}

func stringAttrOf(t testing.TB, attrs providers.Attrs, name string) string {
	s, _ := attr(t, attrs, name).(string)
	return s
}

// TestSlurmCancel: a running job is cancelled by delete, and then reads as gone; a
// command that is not found fails with 127 without restarts.
func TestSlurmCancel(t *testing.T) {
	c := slurmCluster(t)
	p, dir := c.provider(t, nil)
	ev := lastEvent(t, create(t, p, "training_job.sleeper", jobAttrs("running", 1, 1, 3, "sleep", "300")))
	if ev.Type != providers.EventDone || attr(t, ev.New, attrStatus) != StatusRunning {
		t.Fatalf("final event = %+v (%s)", ev, ev.New)
	}
	slurmID := attr(t, ev.New, attrSlurmJobID).(string)
	start := time.Now()
	del := remove(t, p, "training_job.sleeper", ev.ID, ev.New)
	if del.Type != providers.EventDone || del.Message != fmt.Sprintf("job %s (Slurm job %s) cancelled", ev.ID, slurmID) {
		t.Fatalf("delete = %+v", del)
	}
	t.Logf("cancelled in %s", time.Since(start).Round(time.Millisecond))
	_, _, cl, _ := p.configured()
	found, err := cl.squeue(context.Background(), "--jobs", []string{slurmID})
	if err != nil || found[slurmID].State != "CANCELLED" {
		t.Errorf("Slurm reports job %s as %+v (%v), want CANCELLED", slurmID, found[slurmID], err)
	}
	if r := read(t, p, ev.ID); !r.Gone {
		t.Errorf("a deleted job reads %+v, want gone", r)
	}

	ev = lastEvent(t, create(t, p, "training_job.typo", jobAttrs("completed", 1, 1, 3, "no-such-trainer", "--steps", "5")))
	if ev.Type != providers.EventFailed || attr(t, ev.New, attrExitCode) != 127.0 || attr(t, ev.New, attrRestarts) != 0.0 ||
		!strings.Contains(ev.Message, "rank 0 exited with code 127 (command not found)") {
		t.Errorf("missing command = %+v (%s)", ev, ev.New)
	}
	if log := readLog(t, dir, ev.ID, 0); !strings.Contains(log, "fabrica: command not found: no-such-trainer") {
		t.Errorf("rank-0.log = %q", log)
	}
}

// TestSlurmRejected: a job larger than the partition is rejected by sbatch, and the
// failed event quotes it.
func TestSlurmRejected(t *testing.T) {
	c := slurmCluster(t)
	p, _ := c.provider(t, nil)
	ev := lastEvent(t, create(t, p, "training_job.huge", jobAttrs("running", c.Nodes+1, 1, 0, "true")))
	if ev.Type != providers.EventFailed || ev.ID != "" || !strings.HasPrefix(ev.Message, "sbatch rejected the job: Batch job submission failed: ") {
		t.Fatalf("final event = %+v", ev)
	}
	t.Logf("rejected: %s", ev.Message)
	p2, _ := c.provider(t, map[string]any{"partition": "no-such-partition"})
	ev = lastEvent(t, create(t, p2, "training_job.lost", jobAttrs("running", 1, 1, 0, "true")))
	if ev.Type != providers.EventFailed || !strings.Contains(ev.Message, "Invalid partition name specified") {
		t.Errorf("unknown partition = %+v", ev)
	}
}

// TestSlurmReadMany submits 12 jobs at once and reads them all with one squeue.
func TestSlurmReadMany(t *testing.T) {
	c := slurmCluster(t)
	bin := countingBinDir(t, c.BinDir)
	p, dir := c.provider(t, map[string]any{"bin_dir": bin})
	const n = 12
	var changes []providers.Change
	for i := range n {
		addr := fmt.Sprintf("training_job.many[%d]", i)
		changes = append(changes, providers.Change{Address: addr, Kind: Kind, Action: providers.ActionCreate,
			Planned: planNew(t, p, addr, jobAttrs("none", 1, 1, 0, "sleep", strconv.Itoa(i%2*300)))})
	}
	var items []providers.ReadItem
	for _, e := range runApply(context.Background(), p, changes...) {
		if e.Type == providers.EventFailed {
			t.Fatalf("create failed: %+v", e)
		}
		if e.Type == providers.EventDone {
			items = append(items, providers.ReadItem{Address: e.Address, Kind: Kind, ID: e.ID, PriorHash: providers.AttrsHash(e.New)})
		}
	}
	// Slurm may delay a burst by seconds, and lists a job as COMPLETING (running) for a
	// moment after its script wrote its result: wait until it reports them finished.
	waitUntil(t, 60*time.Second, "the short jobs to finish", func() bool {
		n := 0
		for _, it := range items {
			if _, err := os.Stat(filepath.Join(JobDir(dir, it.ID), resultFile)); err == nil {
				n++
			}
		}
		if n != len(items)/2 {
			return false
		}
		succeeded := 0
		for _, r := range p.Read(context.Background(), providers.ReadRequest{Items: items}).Results {
			if strings.Contains(string(r.Attrs), fmt.Sprintf(`"%s":"%s"`, attrStatus, StatusSucceeded)) {
				succeeded++
			}
		}
		return succeeded == len(items)/2
	})
	os.Remove(filepath.Join(bin, "calls"))
	resp := p.Read(context.Background(), providers.ReadRequest{Items: items})
	counts := callCounts(t, bin)
	if counts["squeue"] != 1 || counts["scontrol"] != 1 || len(resp.Results) != n {
		t.Errorf("Read of %d jobs ran %v, want one scontrol ping and one squeue", n, counts)
	}
	statuses := map[string]int{}
	for _, r := range resp.Results {
		if len(r.Diagnostics) > 0 || r.Unchanged {
			t.Errorf("result %+v", r)
			continue
		}
		statuses[attr(t, r.Attrs, attrStatus).(string)]++
	}
	if statuses[StatusSucceeded] != n/2 || statuses[StatusRunning]+statuses[StatusPending] != n/2 {
		t.Errorf("statuses = %v, want %d succeeded and %d running", statuses, n/2, n/2)
	}
	// Finished jobs are read from disk: a second Read asks Slurm about the running ones only.
	os.Remove(filepath.Join(bin, "calls"))
	p.Read(context.Background(), providers.ReadRequest{Items: items})
	if got := callArgs(t, bin, "squeue"); strings.Count(got, ",") != n/2-1 {
		t.Errorf("second Read queried %q, want the %d unfinished jobs only", got, n/2)
	}
}

// countingBinDir returns a directory of wrappers around the real Slurm commands that log
// each call to "calls".
func countingBinDir(t *testing.T, real string) string {
	t.Helper()
	bin := t.TempDir()
	for _, name := range []string{"sbatch", "squeue", "scontrol", "scancel"} {
		script := fmt.Sprintf("#!/bin/sh\necho \"%s $*\" >> %s\nexec %s \"$@\"\n", name, shq(filepath.Join(bin, "calls")), shq(filepath.Join(real, name)))
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

func callCounts(t *testing.T, bin string) map[string]int {
	b, _ := os.ReadFile(filepath.Join(bin, "calls"))
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			counts[f[0]]++
		}
	}
	return counts
}

// callArgs returns the job list of the logged call of name.
func callArgs(t *testing.T, bin, name string) string {
	b, _ := os.ReadFile(filepath.Join(bin, "calls"))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		for i, a := range f {
			if len(f) > 0 && f[0] == name && a == "--jobs" && i+1 < len(f) {
				return f[i+1]
			}
		}
	}
	return ""
}

// waitUntil polls cond every 100 ms until it holds, failing the test after timeout.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
