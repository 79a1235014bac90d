package local

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
)

// writeFakeJob writes a job directory by hand: no process runs it.
func writeFakeJob(t *testing.T, workDir, id string, created time.Time, st *jobStatus, pid int) {
	t.Helper()
	dir := JobDir(workDir, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	j := &jobFile{FormatVersion: jobFormat, ID: id, Address: "training_job." + id, CreatedAt: created, dir: dir,
		Attrs: json.RawMessage(`{"command":["x"],"job_id":"` + id + `","wait":"none","world_size":1}`)}
	if err := writeJob(j); err != nil {
		t.Fatal(err)
	}
	if st != nil {
		if err := writeStatus(dir, *st); err != nil {
			t.Fatal(err)
		}
	}
	if pid != 0 {
		if err := writePID(dir, pid); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRead_statuses(t *testing.T) {
	dir := t.TempDir()
	now, old := time.Now().UTC(), time.Now().UTC().Add(-time.Hour)
	zero, three, one := 0, 3, 1
	notSupervisor := os.Getpid() // alive, but its arguments do not name the job
	writeFakeJob(t, dir, "launching", now, nil, 0)
	writeFakeJob(t, dir, "neverstarted", old, &jobStatus{Status: StatusPending}, 0)
	writeFakeJob(t, dir, "died", old, &jobStatus{Status: StatusRunning, StartedAt: "2026-01-01T00:00:00Z"}, notSupervisor)
	writeFakeJob(t, dir, "ok", old, &jobStatus{Status: StatusSucceeded, ExitCode: &zero, FinishedAt: "2026-01-01T01:00:00Z"}, notSupervisor)
	writeFakeJob(t, dir, "bad", old, &jobStatus{Status: StatusFailed, ExitCode: &three, FailingRank: &one, Message: "rank 1 exited with code 3"}, notSupervisor)
	writeFakeJob(t, dir, "stopped", old, &jobStatus{Status: StatusCancelled, Message: "cancelled"}, notSupervisor)
	writeFakeJob(t, dir, "deleted", old, &jobStatus{Status: StatusCancelled}, 0)
	if err := release(JobDir(dir, "deleted")); err != nil {
		t.Fatal(err)
	}
	p := configured(t, dir)
	for _, tc := range []struct{ id, status, reason string }{
		{"launching", StatusPending, ""},
		{"neverstarted", StatusFailed, "the supervisor never started"},
		{"died", StatusFailed, "died before the job finished"},
		{"ok", StatusSucceeded, ""},
		{"bad", StatusFailed, "rank 1 exited with code 3 (see fabrica logs training_job.bad --rank 1)"},
		{"stopped", StatusCancelled, "cancelled"},
		{"deleted", "", ""},
		{"missing", "", ""},
		{"../bad", "", ""},
	} {
		r := p.Read(context.Background(), providers.ReadRequest{Items: []providers.ReadItem{{Address: "training_job." + tc.id, Kind: Kind, ID: tc.id}}}).Results[0]
		if len(r.Diagnostics) > 0 {
			t.Errorf("%s: %v", tc.id, r.Diagnostics)
			continue
		}
		if tc.status == "" {
			if !r.Gone {
				t.Errorf("%s: want gone, got %s", tc.id, r.Attrs)
			}
			continue
		}
		got, _ := attr(t, r.Attrs, "status").(string)
		reason, _ := attr(t, r.Attrs, "status_reason").(string)
		if got != tc.status || !strings.Contains(reason, tc.reason) || (tc.reason == "" && reason != "") {
			t.Errorf("%s: status %q reason %q, want %q %q", tc.id, got, reason, tc.status, tc.reason)
		}
	}
	// The verdict on a dead supervisor is kept.
	if st := status(t, dir, "died"); st.Status != StatusFailed || st.FinishedAt == "" {
		t.Errorf("died: status.json %+v", st)
	}
	if ok := attr(t, p.Import(context.Background(), providers.ImportRequest{Kind: Kind, ID: "ok"}).Attrs, "exit_code"); ok != 0.0 {
		t.Errorf("Import ok: exit_code %v", ok)
	}
	if d := p.Import(context.Background(), providers.ImportRequest{Kind: Kind, ID: "deleted"}).Diagnostics; len(d) != 1 {
		t.Errorf("Import of a deleted job: %v", d)
	}
	jobs, err := Jobs(dir)
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
		if j.Released != (j.ID == "deleted") {
			t.Errorf("%s: Released %v", j.ID, j.Released)
		}
	}
	if want := "bad deleted died neverstarted ok stopped launching"; err != nil || strings.Join(ids, " ") != want {
		t.Errorf("Jobs: %v %v, want oldest first: %s", ids, err, want)
	}
}

func TestApply_updateWait(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	ev := create(t, p, "training_job.upd", jobAttrs(t, "none", 1, 1, 0, "sh", "-c", "sleep 0.2"))
	desired := jobAttrs(t, "completed", 1, 1, 0, "sh", "-c", "sleep 0.2")
	pc := planOne(t, p, providers.PlanItem{Address: "training_job.upd", ID: ev.ID, Prior: ev.New, Desired: desired})
	if pc.RequiresReplace != nil || attr(t, pc.Planned, "wait") != "completed" {
		t.Fatalf("want an in-place update, got %+v", pc)
	}
	up := lastEvent(t, runApply(context.Background(), p, providers.Change{Address: "training_job.upd", Kind: Kind, Action: providers.ActionUpdate,
		ID: ev.ID, Prior: ev.New, Planned: pc.Planned}))
	if up.Type != providers.EventDone || up.ID != ev.ID || attr(t, up.New, "status") != StatusSucceeded || attr(t, up.New, "wait") != "completed" {
		t.Fatalf("want the same job waited for to success, got %+v", up)
	}
}
