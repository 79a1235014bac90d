package slurm

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseSqueue(t *testing.T) {
	out := "1|COMPLETED|0|None|2026-11-29T06:04:08|2026-11-29T06:04:09|node[1-2]|train-abc123|\n" +
		"2|FAILED|768|NonZeroExitCode|2026-11-29T06:04:08|2026-11-29T06:04:08|node1|odd|name|\n" +
		"3|PENDING|0|Resources|N/A|N/A||queued-000001|\n\ngarbage\n"
	jobs := parseSqueue(out)
	if len(jobs) != 3 {
		t.Fatalf("parsed %d jobs, want 3: %+v", len(jobs), jobs)
	}
	if j := jobs["1"]; j.State != "COMPLETED" || j.Node != "node[1-2]" || j.Name != "train-abc123" || j.Start == "" || j.End == "" {
		t.Errorf("job 1 = %+v", j)
	}
	if j := jobs["2"]; j.WaitStatus != 768 || j.Name != "odd|name" {
		t.Errorf("job 2 = %+v", j)
	}
	if j := jobs["3"]; j.Start != "" || j.Reason != "Resources" {
		t.Errorf("job 3 = %+v", j)
	}
}

func TestStatusOf(t *testing.T) {
	none := batchOutcome{}
	for _, c := range []struct {
		sj       slurmJob
		o        batchOutcome
		status   string
		code     int // -1: none
		rank     int // -1: none
		inReason string
	}{
		{slurmJob{State: "PENDING", Reason: "Resources"}, none, StatusPending, -1, -1, "waiting for Slurm: Resources"},
		{slurmJob{State: "CONFIGURING"}, none, StatusPending, -1, -1, ""},
		{slurmJob{State: "PENDING", Reason: "PartitionNodeLimit"}, none, StatusPending, -1, -1, "Slurm will not start it as it is: PartitionNodeLimit"},
		{slurmJob{State: "RUNNING", Node: "node1"}, none, StatusRunning, -1, -1, ""},
		{slurmJob{State: "COMPLETING"}, none, StatusRunning, -1, -1, ""},
		{slurmJob{State: "RUNNING"}, batchOutcome{restarts: 1, lastFailure: "rank 3 exited with code 1"}, StatusRunning, -1, -1, "restart 1 of the group after rank 3"},
		{slurmJob{State: "COMPLETED"}, none, StatusSucceeded, 0, -1, ""},
		{slurmJob{State: "FAILED", WaitStatus: 3 << 8}, batchOutcome{result: StatusFailed, rank: ptr(1), code: ptr(3)}, StatusFailed, 3, 1, "rank 1 exited with code 3"},
		{slurmJob{ID: "9", State: "FAILED", WaitStatus: 2 << 8}, none, StatusFailed, 2, -1, "Slurm job 9 the batch script failed"},
		{slurmJob{State: "CANCELLED", WaitStatus: 15}, none, StatusCancelled, -1, -1, "cancelled"},
		{slurmJob{State: "TIMEOUT", WaitStatus: 15}, none, StatusFailed, 143, -1, "reached its time limit"},
		{slurmJob{State: "NODE_FAIL"}, none, StatusFailed, 0, -1, "a node of its allocation failed"},
		{slurmJob{State: "OUT_OF_MEMORY", WaitStatus: 9}, none, StatusFailed, 137, -1, "ran out of memory"},
		{slurmJob{State: "PREEMPTED"}, none, StatusFailed, 0, -1, "preempted"},
		{slurmJob{State: "BOOT_FAIL"}, none, StatusFailed, 0, -1, "boot"},
		{slurmJob{State: "DEADLINE"}, none, StatusFailed, 0, -1, "deadline"},
		{slurmJob{State: "SOMETHING_NEW"}, none, StatusPending, -1, -1, "Slurm state SOMETHING_NEW"},
	} {
		st := statusOf(c.sj, c.o)
		if st.Status != c.status || !strings.Contains(st.Message, c.inReason) {
			t.Errorf("%s: status %s %q, want %s containing %q", c.sj.State, st.Status, st.Message, c.status, c.inReason)
		}
		if got := intOr(st.ExitCode); got != c.code {
			t.Errorf("%s: exit code %d, want %d", c.sj.State, got, c.code)
		}
		if got := intOr(st.FailingRank); got != c.rank {
			t.Errorf("%s: failing rank %d, want %d", c.sj.State, got, c.rank)
		}
	}
}

func TestForgotten(t *testing.T) {
	if st := forgotten("7", batchOutcome{result: StatusSucceeded}); st.Status != StatusSucceeded || *st.ExitCode != 0 {
		t.Errorf("succeeded result: %+v", st)
	}
	if st := forgotten("7", batchOutcome{result: StatusFailed, rank: ptr(2), code: ptr(9)}); st.Status != StatusFailed || *st.FailingRank != 2 || *st.ExitCode != 9 {
		t.Errorf("failed result: %+v", st)
	}
	if st := forgotten("7", batchOutcome{}); st.Status != StatusFailed || !strings.Contains(st.Message, "Slurm no longer knows job 7") {
		t.Errorf("no result: %+v", st)
	}
}

func TestParseConfig(t *testing.T) {
	cfg, diags := parseConfig(json.RawMessage(`{"partition":"gpu","account":"ml","time_limit":"2h","poll_interval":"100ms","command_timeout":"5s","bin_dir":null}`))
	if len(diags) != 0 || cfg.Partition != "gpu" || cfg.Account != "ml" || cfg.TimeLimit != 2*time.Hour || cfg.PollInterval != 100*time.Millisecond || cfg.CommandTimeout != 5*time.Second {
		t.Errorf("config = %+v, diags %v", cfg, diags)
	}
	if cfg, _ := parseConfig(nil); cfg.PollInterval != DefaultPollInterval || cfg.CommandTimeout != DefaultCommandTimeout {
		t.Errorf("defaults = %+v", cfg)
	}
	_, diags = parseConfig(json.RawMessage(`{"partition":"a b","time_limit":"soon","queue":"x","poll_interval":"-1s"}`))
	got := map[string]bool{}
	for _, d := range diags {
		got[d.Attribute] = true
	}
	for _, want := range []string{"partition", "time_limit", "queue", "poll_interval"} {
		if !got[want] {
			t.Errorf("no diagnostic for %s in %v", want, diags)
		}
	}
}

func TestCommandEnv(t *testing.T) {
	env := commandEnv([]string{"PATH=/bin", "SLURM_JOB_ID=3", "SLURM_CONF=/old", "SBATCH_PARTITION=x", "SQUEUE_FORMAT=%i", "PLUGIN_MIN_PORT=1", "HOME=/root"}, "/etc/slurm/slurm.conf")
	if strings.Join(env, " ") != "PATH=/bin HOME=/root SLURM_CONF=/etc/slurm/slurm.conf" {
		t.Errorf("commandEnv = %v", env)
	}
	if env := commandEnv([]string{"SLURM_CONF=/keep"}, ""); strings.Join(env, " ") != "SLURM_CONF=/keep" {
		t.Errorf("commandEnv without slurm_conf = %v", env)
	}
}

func TestCleanOutput(t *testing.T) {
	in := "Slurmctld(primary) at vm is DOWN\n*****************************************\n** RESTORE SLURMCTLD DAEMON TO SERVICE **\n*****************************************\n"
	if got := cleanOutput(in); got != "Slurmctld(primary) at vm is DOWN" {
		t.Errorf("cleanOutput = %q", got)
	}
}

func ptr(n int) *int { return &n }

func intOr(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}
