package local

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
	"github.com/google/go-cmp/cmp"
)

func planOne(t *testing.T, p providers.Provider, it providers.PlanItem) providers.PlannedChange {
	t.Helper()
	if it.Kind == "" {
		it.Kind = Kind
	}
	resp := p.Plan(context.Background(), providers.PlanRequest{Items: []providers.PlanItem{it}})
	if len(resp.Changes) != 1 {
		t.Fatalf("want one change, got %+v", resp)
	}
	return resp.Changes[0]
}

// withAttrs returns attrs with some attributes set (nil values removed).
func withAttrs(t *testing.T, attrs providers.Attrs, set map[string]any) providers.Attrs {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(attrs, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return b
}

func TestPlan_create(t *testing.T) {
	dir := t.TempDir()
	p := configured(t, dir)
	desired := withAttrs(t, jobAttrs(t, "completed", 1, 2, 1, "sh", "-c", "true"), map[string]any{"env": map[string]string{"HF_TOKEN": "hf_x", "LR": "1"}})
	pc := planOne(t, p, providers.PlanItem{Address: "training_job.logreg", Desired: desired})
	if len(pc.Diagnostics) > 0 {
		t.Fatalf("diagnostics: %v", pc.Diagnostics)
	}
	if d := cmp.Diff([]string{"job_id", "log_dir"}, pc.Unknown); d != "" {
		t.Errorf("Unknown (-want +got)\n%s", d)
	}
	var planned struct {
		Status string         `json:"status"`
		Launch map[string]any `json:"launch"`
		JobID  *string        `json:"job_id"`
	}
	if err := json.Unmarshal(pc.Planned, &planned); err != nil {
		t.Fatal(err)
	}
	wantLaunch := map[string]any{
		"layout": "1 node × 2 processes", "nodes": 1.0, "processes_per_node": 2.0, "world_size": 2.0, "max_restarts": 1.0,
		"command": []any{"sh", "-c", "true"}, "env_keys": []any{"HF_TOKEN", "LR"}, "workdir": dir,
		"rendezvous": fmt.Sprintf("127.0.0.1:%d", launch.DefaultPort("training_job.logreg")),
	}
	if d := cmp.Diff(wantLaunch, planned.Launch); d != "" {
		t.Errorf("launch (-want +got)\n%s", d)
	}
	if planned.Status != StatusPending || planned.JobID != nil {
		t.Errorf("want status pending and no job_id, got %s", pc.Planned)
	}
	canon, _ := providers.Canonical(pc.Planned)
	if string(canon) != string(pc.Planned) {
		t.Errorf("planned attributes are not canonical:\n%s\n%s", pc.Planned, canon)
	}
}

func TestPlan_warningsAndErrors(t *testing.T) {
	p := configured(t, t.TempDir())
	desired := withAttrs(t, jobAttrs(t, "none", 1, 1, 0, "no-such-trainer-xyz"), map[string]any{"image": "nvcr.io/x"})
	pc := planOne(t, p, providers.PlanItem{Address: "training_job.a", Desired: desired})
	var got []string
	for _, d := range pc.Diagnostics {
		got = append(got, string(d.Severity)+" "+d.Attribute+" "+d.Summary)
	}
	want := []string{"warning image Image ignored", "warning command Command not found"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("diagnostics (-want +got)\n%s", d)
	}
	pc = planOne(t, p, providers.PlanItem{Address: "training_job.a", Desired: providers.Attrs(`{"command":[],"world_size":1}`)})
	if !providers.HasErrors(pc.Diagnostics) || pc.Diagnostics[0].Attribute != "command" || pc.Planned != nil {
		t.Errorf("want an error on command, got %+v", pc)
	}
	pc = planOne(t, p, providers.PlanItem{Address: "hardware.x", Kind: "hardware", Desired: providers.Attrs(`{}`)})
	if !providers.HasErrors(pc.Diagnostics) || !strings.Contains(pc.Diagnostics[0].Detail, "training_job") {
		t.Errorf("want an unsupported kind error, got %+v", pc)
	}
	pc = planOne(t, p, providers.PlanItem{Address: "training_job.a", ID: "a-000000", Prior: desired})
	if pc.Planned != nil || len(pc.Diagnostics) > 0 {
		t.Errorf("a delete plans nothing, got %+v", pc)
	}
}

// priorJob returns the attributes of a job as they are in state.
func priorJob(t *testing.T, desired providers.Attrs, status map[string]any) providers.Attrs {
	set := map[string]any{"job_id": "logreg-abcdef", "log_dir": "/w/.fabrica/jobs/logreg-abcdef", "launch": map[string]any{"nodes": 1}, "restarts": 0}
	for k, v := range status {
		set[k] = v
	}
	return withAttrs(t, desired, set)
}

func TestPlan_update(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trainer"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := configured(t, dir)
	desired := jobAttrs(t, "completed", 1, 2, 1, "trainer", "--steps", "200")
	failed := map[string]any{"status": "failed", "exit_code": 3, "failing_rank": 1, "status_reason": "rank 1 exited with code 3"}
	for _, tc := range []struct {
		name          string
		prior         providers.Attrs
		desired       providers.Attrs
		replace       []string
		samePrior     bool
		wantReason    string
		wantWaitNew   string
		wantPartition string
	}{
		{name: "running unchanged", prior: priorJob(t, desired, map[string]any{"status": "running"}), desired: desired, samePrior: true},
		{name: "succeeded left alone", prior: priorJob(t, desired, map[string]any{"status": "succeeded", "exit_code": 0}), desired: desired, samePrior: true},
		{name: "failed replaced", prior: priorJob(t, desired, failed), desired: desired, replace: []string{"status"},
			wantReason: "replaces job logreg-abcdef, which failed: rank 1 exited with code 3"},
		{name: "cancelled replaced", prior: priorJob(t, desired, map[string]any{"status": "cancelled"}), desired: desired, replace: []string{"status"},
			wantReason: "replaces job logreg-abcdef, which was cancelled"},
		{name: "command changed", prior: priorJob(t, desired, map[string]any{"status": "running"}),
			desired: withAttrs(t, desired, map[string]any{"command": []string{"trainer"}, "env": map[string]string{"A": "1"}}),
			replace: []string{"command", "env"}, wantReason: "replaces job logreg-abcdef: changed command, env"},
		{name: "failed and changed", prior: priorJob(t, desired, failed), desired: withAttrs(t, desired, map[string]any{"max_restarts": 2}),
			replace: []string{"max_restarts", "status"}, wantReason: "replaces job logreg-abcdef, which failed: rank 1 exited with code 3; changed max_restarts"},
		{name: "wait in place", prior: priorJob(t, desired, map[string]any{"status": "running"}),
			desired: withAttrs(t, desired, map[string]any{"wait": "none"}), wantWaitNew: "none"},
		// A job recorded before jobs carried their cluster's partition is not relaunched.
		{name: "partition in place", prior: priorJob(t, desired, map[string]any{"status": "succeeded", "exit_code": 0}),
			desired: withAttrs(t, desired, map[string]any{"partition": "gpu"}), wantPartition: "gpu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pc := planOne(t, p, providers.PlanItem{Address: "training_job.logreg", ID: "logreg-abcdef", Prior: tc.prior, Desired: tc.desired})
			if len(pc.Diagnostics) > 0 {
				t.Fatalf("diagnostics: %v", pc.Diagnostics)
			}
			if d := cmp.Diff(tc.replace, pc.RequiresReplace); d != "" {
				t.Errorf("RequiresReplace (-want +got)\n%s", d)
			}
			if tc.samePrior && string(pc.Planned) != string(tc.prior) {
				t.Errorf("planned differs from prior:\n%s\n%s", pc.Planned, tc.prior)
			}
			if tc.replace != nil {
				if attr(t, pc.Planned, "status") != StatusPending || attr(t, pc.Planned, "status_reason") != tc.wantReason {
					t.Errorf("want pending with reason %q, got %s", tc.wantReason, pc.Planned)
				}
				if attr(t, pc.Planned, "exit_code") != nil || attr(t, pc.Planned, "job_id") != nil {
					t.Errorf("a replacement starts afresh: %s", pc.Planned)
				}
			}
			if tc.wantPartition != "" {
				want := withAttrs(t, tc.prior, map[string]any{"partition": tc.wantPartition})
				if string(pc.Planned) != string(want) || len(pc.RequiresReplace) > 0 {
					t.Errorf("want an in-place update of partition:\n%s\n%s", pc.Planned, want)
				}
			}
			if tc.wantWaitNew != "" {
				want := withAttrs(t, tc.prior, map[string]any{"wait": tc.wantWaitNew})
				if string(pc.Planned) != string(want) || pc.Unknown != nil {
					t.Errorf("want an in-place update of wait:\n%s\n%s", pc.Planned, want)
				}
			}
		})
	}
}

// TestPlan_afterApplyIsEmpty runs a job and plans it again from the attributes apply and
// a later refresh returned: both plan no change.
func TestPlan_afterApplyIsEmpty(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	desired := jobAttrs(t, "running", 1, 1, 0, "sh", "-c", "sleep 0.3")
	ev := create(t, p, "training_job.again", desired)
	if ev.Type != providers.EventDone {
		t.Fatalf("apply: %+v", ev)
	}
	pc := planOne(t, p, providers.PlanItem{Address: "training_job.again", ID: ev.ID, Prior: ev.New, Desired: desired})
	if string(pc.Planned) != string(ev.New) || pc.RequiresReplace != nil || pc.Unknown != nil {
		t.Errorf("plan after apply is not empty: %+v", pc)
	}
	waitFor(t, "the job to succeed", func() bool { return status(t, dir, ev.ID).Status == StatusSucceeded })
	r := p.Read(context.Background(), providers.ReadRequest{Items: []providers.ReadItem{{Address: "training_job.again", Kind: Kind, ID: ev.ID, PriorHash: providers.AttrsHash(ev.New)}}})
	refreshed := r.Results[0].Attrs
	if attr(t, refreshed, "status") != StatusSucceeded {
		t.Fatalf("refresh: %s", refreshed)
	}
	pc = planOne(t, p, providers.PlanItem{Address: "training_job.again", ID: ev.ID, Prior: refreshed, Desired: desired})
	if string(pc.Planned) != string(refreshed) || pc.RequiresReplace != nil {
		t.Errorf("a succeeded job must be left alone: %+v", pc)
	}
}

// TestPlan_failedJobIsReplaced runs a job that fails and checks the next plan replaces
// it, with the reason.
func TestPlan_failedJobIsReplaced(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	desired := jobAttrs(t, "completed", 1, 2, 0, "sh", "-c", `[ "$RANK" = 1 ] && exit 2; exit 0`)
	ev := create(t, p, "training_job.fails", desired)
	if ev.Type != providers.EventFailed {
		t.Fatalf("want failed, got %+v", ev)
	}
	pc := planOne(t, p, providers.PlanItem{Address: "training_job.fails", ID: ev.ID, Prior: ev.New, Desired: desired})
	if d := cmp.Diff([]string{"status"}, pc.RequiresReplace); d != "" {
		t.Errorf("RequiresReplace (-want +got)\n%s", d)
	}
	want := fmt.Sprintf("replaces job %s, which failed: rank 1 exited with code 2 (see fabrica logs training_job.fails --rank 1)", ev.ID)
	if got := attr(t, pc.Planned, "status_reason"); got != want {
		t.Errorf("status_reason %q\nwant           %q", got, want)
	}
}
