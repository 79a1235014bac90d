package slurm

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/providers"
)

// buildTrainer builds examples/trainer into a temporary directory.
func buildTrainer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "trainer")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/fabrica-iac/fabrica/examples/trainer").CombinedOutput(); err != nil {
		t.Fatalf("go build examples/trainer: %v\n%s", err, out)
	}
	return bin
}

var (
	stepLoss  = regexp.MustCompile(`step (\d+) loss ([0-9.]+)`)
	finalHash = regexp.MustCompile(`final loss ([0-9.]+) params sha256 ([0-9a-f]+)`)
)

// TestSlurmTrainer trains examples/trainer through Slurm on 2 nodes × 2 ranks, with one
// injected failure of rank 3: the group restarts once, resumes from the checkpoint, the
// loss falls and every rank ends with the same parameters.
func TestSlurmTrainer(t *testing.T) {
	c := slurmCluster(t)
	if c.Nodes < 2 {
		t.Skipf("needs 2 nodes, the cluster has %d", c.Nodes)
	}
	bin := buildTrainer(t)
	p, dir := c.provider(t, nil)
	desired := jobAttrs("completed", 2, 2, 1, bin, "--steps", "120", "--log-every", "10", "--checkpoint-every", "20",
		"--fail-at-step", "70", "--fail-rank", "3", "--fail-once")
	events := create(t, p, "training_job.logreg", desired)
	ev := lastEvent(t, events)
	if ev.Type != providers.EventDone || attr(t, ev.New, attrStatus) != StatusSucceeded || attr(t, ev.New, attrRestarts) != 1.0 {
		t.Fatalf("final event = %+v (%s)", ev, ev.New)
	}
	// The trainer's peers exit 1 within milliseconds of the injected failure (rank 0 tells
	// them), so the rank that ended first may be any of them.
	if reason := stringAttrOf(t, ev.New, attrStatusReason); !strings.Contains(reason, "succeeded after 1 restart") || !strings.Contains(reason, "exited with code 1") {
		exits, _ := os.ReadFile(filepath.Join(JobDir(dir, ev.ID), "exits-0"))
		t.Errorf("status_reason = %q; exits-0:\n%s\nrank-3.log:\n%s", reason, exits, readLog(t, dir, ev.ID, 3))
	}
	log0 := readLog(t, dir, ev.ID, 0)
	var losses []float64
	for _, m := range stepLoss.FindAllStringSubmatch(log0, -1) {
		l, _ := strconv.ParseFloat(m[2], 64)
		losses = append(losses, l)
	}
	if len(losses) < 5 || losses[len(losses)-1] >= losses[0]*0.8 {
		t.Errorf("loss did not fall: %v\n%s", losses, log0)
	}
	if !strings.Contains(log0, "resumed from step") || !strings.Contains(log0, "----- fabrica: restart 1 of 1 (rank ") {
		t.Errorf("rank-0.log does not show the restart and resume:\n%s", log0)
	}
	if !strings.Contains(strings.Join(logLines(events), "\n"), "done: 120 steps") {
		t.Errorf("the rank-0 log tail in the events lacks the end: %q", logLines(events))
	}
	var hashes []string
	for rank := range 4 {
		m := finalHash.FindAllStringSubmatch(readLog(t, dir, ev.ID, rank), -1)
		if len(m) == 0 {
			t.Fatalf("rank %d printed no final parameters:\n%s", rank, readLog(t, dir, ev.ID, rank))
		}
		hashes = append(hashes, m[len(m)-1][2])
	}
	for rank, h := range hashes {
		if h != hashes[0] {
			t.Errorf("rank %d ended with params %s, rank 0 with %s", rank, h, hashes[0])
		}
	}
	t.Logf("losses %v; params sha256 %s on all 4 ranks", losses, hashes[0])
}
