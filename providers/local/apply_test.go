package local

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

func TestApply_envContract(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	desired := jobAttrs(t, "completed", 2, 2, 0, "sh", "-c", `env > env-$RANK`)
	var m map[string]any
	_ = json.Unmarshal(desired, &m)
	m["env"] = map[string]string{"LEARNING_RATE": "0.1"}
	m["checkpoint"] = map[string]any{"dir": "ck", "interval_minutes": 1}
	desired, _ = json.Marshal(m)
	ev := create(t, p, "training_job.env", desired)
	if ev.Type != providers.EventDone || attr(t, ev.New, "status") != StatusSucceeded {
		t.Fatalf("want succeeded, got %+v", ev)
	}
	j, err := readJob(JobDir(dir, ev.ID))
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(j.Spec.MasterPort)
	for node := range 2 {
		for local := range 2 {
			rank := node*2 + local
			env := envFile(t, dir, rank)
			want := map[string]string{
				"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "WORLD_SIZE": "4", "RANK": strconv.Itoa(rank),
				"LOCAL_RANK": strconv.Itoa(local), "LOCAL_WORLD_SIZE": "2", "GROUP_RANK": strconv.Itoa(node),
				"GROUP_WORLD_SIZE": "2", "ROLE_RANK": strconv.Itoa(rank), "ROLE_NAME": "default", "ROLE_WORLD_SIZE": "4",
				"TORCHELASTIC_RESTART_COUNT": "0", "TORCHELASTIC_MAX_RESTARTS": "0", "TORCHELASTIC_RUN_ID": ev.ID,
				"FABRICA_JOB_ID": ev.ID, "FABRICA_RUN_ID": ev.ID, "FABRICA_CHECKPOINT_DIR": filepath.Join(dir, "ck"),
				"LEARNING_RATE": "0.1", "PYTHONUNBUFFERED": "1",
			}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("rank %d: %s=%q, want %q", rank, k, env[k], v)
				}
			}
			if _, ok := env[superviseEnv]; ok {
				t.Errorf("rank %d inherited %s", rank, superviseEnv)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "ck")); err != nil || !fi.IsDir() {
		t.Errorf("checkpoint dir not made: %v", err)
	}
	if p := j.Spec.MasterPort; p < launch.BasePort || p >= launch.BasePort+launch.PortRange {
		t.Errorf("port %d out of range", p)
	}
}

func TestApply_waitCompletedSucceeds(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	events := runApply(context.Background(), p, providers.Change{Address: "training_job.ok", Kind: Kind, Action: providers.ActionCreate,
		Planned: planNew(t, p, "training_job.ok", jobAttrs(t, "completed", 1, 2, 0, "sh", "-c", `echo "hello from $RANK"`))})
	ev := lastEvent(t, events)
	if ev.Type != providers.EventDone {
		t.Fatalf("want Done, got %+v", ev)
	}
	for k, want := range map[string]any{"status": StatusSucceeded, "exit_code": 0.0, "job_id": ev.ID, "restarts": 0.0, "log_dir": JobDir(dir, ev.ID)} {
		if got := attr(t, ev.New, k); got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	if canon, _ := providers.Canonical(ev.New); string(canon) != string(ev.New) {
		t.Errorf("attributes are not canonical:\n%s\n%s", ev.New, canon)
	}
	for _, k := range []string{"started_at", "finished_at", "launch"} {
		if attr(t, ev.New, k) == nil {
			t.Errorf("%s missing in %s", k, ev.New)
		}
	}
	var logged, progressed bool
	for _, e := range events {
		logged = logged || (e.Type == providers.EventLog && e.Message == "hello from 0")
		progressed = progressed || (e.Type == providers.EventProgress && e.Stage == StatusSucceeded)
		if e.Type == providers.EventLog && strings.Contains(e.Message, "hello from 1") {
			t.Errorf("only rank 0's log is tailed: %q", e.Message)
		}
	}
	if !logged || !progressed {
		t.Errorf("want rank 0's log line and a succeeded progress event, got %+v", events)
	}
	// The job runs quicker than a poll may see it running; the stages still say it ran.
	var stages []string
	for _, e := range events {
		if e.Type == providers.EventProgress && e.Stage != StatusPending && e.Stage != "submitted" {
			stages = append(stages, e.Stage)
		}
	}
	if len(stages) < 2 || stages[0] != StatusRunning || stages[len(stages)-1] != StatusSucceeded {
		t.Errorf("progress stages after pending = %v, want running … succeeded", stages)
	}
	if got := readLog(t, dir, ev.ID, 1); got != "hello from 1\n" {
		t.Errorf("rank-1.log = %q", got)
	}
}

func TestApply_rankFailsAfterRestarts(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	ev := create(t, p, "training_job.bad", jobAttrs(t, "completed", 1, 2, 1, "sh", "-c",
		`echo "attempt $TORCHELASTIC_RESTART_COUNT"; if [ "$RANK" = 1 ]; then exit 3; fi; exec sleep 30`))
	if ev.Type != providers.EventFailed || ev.New == nil || ev.ID == "" {
		t.Fatalf("want Failed with the job's attributes, got %+v", ev)
	}
	want := "rank 1 exited with code 3 after 1 restart (see fabrica logs training_job.bad --rank 1)"
	if ev.Message != want {
		t.Errorf("message %q, want %q", ev.Message, want)
	}
	for k, v := range map[string]any{"status": StatusFailed, "exit_code": 3.0, "failing_rank": 1.0, "restarts": 1.0, "status_reason": want} {
		if got := attr(t, ev.New, k); got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	log1 := readLog(t, dir, ev.ID, 1)
	if !strings.Contains(log1, "attempt 0\n") || !strings.Contains(log1, "----- fabrica: restart 1 of 1 (restart 1 of 1 after rank 1 exited with code 3) -----\nattempt 1\n") {
		t.Errorf("rank-1.log:\n%s", log1)
	}
}

func TestApply_restartThenSucceed(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	ev := create(t, p, "training_job.flaky", jobAttrs(t, "completed", 1, 2, 2, "sh", "-c",
		`if [ "$TORCHELASTIC_RESTART_COUNT" = 0 ] && [ "$RANK" = 0 ]; then kill -9 $$; fi; echo ok`))
	if ev.Type != providers.EventDone || attr(t, ev.New, "status") != StatusSucceeded || attr(t, ev.New, "restarts") != 1.0 {
		t.Fatalf("want succeeded after 1 restart, got %+v", ev)
	}
	if r := attr(t, ev.New, "status_reason"); r != "succeeded after 1 restart (after rank 0 was killed by signal 9 (killed))" {
		t.Errorf("status_reason %v", r)
	}
}

func TestApply_commandNotFound(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	ev := create(t, p, "training_job.missing", jobAttrs(t, "completed", 1, 2, 3, "no-such-trainer-xyz", "--steps", "1"))
	if ev.Type != providers.EventFailed || attr(t, ev.New, "exit_code") != 127.0 || attr(t, ev.New, "restarts") != 0.0 {
		t.Fatalf("want failed with exit code 127 and no restart, got %+v", ev)
	}
	if !strings.HasPrefix(ev.Message, "command not found: no-such-trainer-xyz (looked in "+dir) {
		t.Errorf("message %q", ev.Message)
	}
	if attr(t, ev.New, "failing_rank") != nil {
		t.Errorf("no rank failed: %s", ev.New)
	}
}

func TestApply_commandFromWorkdir(t *testing.T) {
	dir := newWorkDir(t)
	if err := os.WriteFile(filepath.Join(dir, "trainer"), []byte("#!/bin/sh\necho trained $RANK\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := configured(t, dir)
	ev := create(t, p, "training_job.local_bin", jobAttrs(t, "completed", 1, 1, 0, "trainer"))
	if ev.Type != providers.EventDone || readLog(t, dir, ev.ID, 0) != "trained 0\n" {
		t.Fatalf("want the workdir's trainer to run, got %+v", ev)
	}
}

func TestApply_cancelKillsEveryProcess(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	// Each rank starts a background sleep and one that ignores SIGTERM: all must go.
	ev := create(t, p, "training_job.long", jobAttrs(t, "running", 1, 2, 0, "sh", "-c",
		`sleep 30 & (trap "" TERM; sleep 30) & wait`))
	if ev.Type != providers.EventDone || attr(t, ev.New, "status") != StatusRunning {
		t.Fatalf("want running, got %+v", ev)
	}
	waitFor(t, "the ranks' children", func() bool { return len(jobProcesses(ev.ID)) >= 6 })
	supervisor := readPID(JobDir(dir, ev.ID))
	del := lastEvent(t, runApply(context.Background(), configured(t, dir), providers.Change{Address: "training_job.long", Kind: Kind,
		Action: providers.ActionDelete, ID: ev.ID, Prior: ev.New}))
	if del.Type != providers.EventDone {
		t.Fatalf("delete: %+v", del)
	}
	if left := jobProcesses(ev.ID); len(left) > 0 {
		t.Errorf("processes left after cancel: %v", left)
	}
	// The supervisor wrote cancelled once the ranks were gone; it exits right after.
	waitFor(t, "the supervisor to exit", func() bool { return !isSupervisor(supervisor, JobDir(dir, ev.ID)) })
	if st := status(t, dir, ev.ID); st.Status != StatusCancelled {
		t.Errorf("status %q, want cancelled", st.Status)
	}
	r := p.Read(context.Background(), providers.ReadRequest{Items: []providers.ReadItem{{Address: "training_job.long", Kind: Kind, ID: ev.ID}}})
	if !r.Results[0].Gone {
		t.Errorf("a deleted job must read gone: %+v", r.Results[0])
	}
}

// TestApply_cancelIsQuick cancels ranks whose children die with them: the cancel must
// not wait for the kill grace (10 s here), even when init is slow to reap the orphans.
func TestApply_cancelIsQuick(t *testing.T) {
	dir := newWorkDir(t)
	p := New()
	p.Configure(context.Background(), providers.ConfigureRequest{Config: json.RawMessage(`{"kill_grace":"10s"}`), WorkDir: dir})
	ev := create(t, p, "training_job.quick", jobAttrs(t, "running", 1, 2, 0, "sh", "-c", "sleep 30; true"))
	waitFor(t, "the ranks' children", func() bool { return len(jobProcesses(ev.ID)) >= 4 })
	start := time.Now()
	del := lastEvent(t, runApply(context.Background(), p, providers.Change{Address: "training_job.quick", Kind: Kind, Action: providers.ActionDelete, ID: ev.ID}))
	if took := time.Since(start); del.Type != providers.EventDone || took > time.Second {
		t.Errorf("cancel took %v: %+v", took, del)
	}
}

func TestApply_stopDetaches(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	planned := planNew(t, p, "training_job.detach", jobAttrs(t, "completed", 1, 1, 0, "sleep", "30"))
	done := make(chan []providers.Event)
	go func() {
		done <- runApply(context.Background(), p, providers.Change{Address: "training_job.detach", Kind: Kind, Action: providers.ActionCreate, Planned: planned})
	}()
	waitFor(t, "the job to run", func() bool {
		jobs, _ := Jobs(dir)
		return len(jobs) == 1 && jobs[0].Status == StatusRunning
	})
	_ = p.Stop(context.Background())
	ev := lastEvent(t, <-done)
	if ev.Type != providers.EventDone || ev.Message != "detached: the job keeps running; fabrica logs training_job.detach --follow to watch it" {
		t.Fatalf("want a detached Done, got %+v", ev)
	}
	if attr(t, ev.New, "status") != StatusRunning || !isSupervisor(readPID(JobDir(dir, ev.ID)), JobDir(dir, ev.ID)) {
		t.Error("the job must keep running after Stop")
	}
	// A fresh provider (fabrica run again) sees it running.
	fresh := configured(t, dir)
	r := fresh.Read(context.Background(), providers.ReadRequest{Items: []providers.ReadItem{{Address: "training_job.detach", Kind: Kind, ID: ev.ID,
		PriorHash: providers.AttrsHash(ev.New)}}})
	if !r.Results[0].Unchanged {
		t.Errorf("want Unchanged, got %+v", r.Results[0])
	}
}

func TestApply_waitNoneThenReadFromFreshProvider(t *testing.T) {
	dir := newWorkDir(t)
	ev := create(t, configured(t, dir), "training_job.bg", jobAttrs(t, "none", 1, 1, 0, "sh", "-c", "sleep 0.5"))
	// At once, with the status as it is: pending, or running when the supervisor was
	// quicker than the answer (CI saw that under load).
	if st := attr(t, ev.New, "status"); ev.Type != providers.EventDone || (st != StatusPending && st != StatusRunning) {
		t.Fatalf("wait none returns the job pending or running, got %+v", ev)
	}
	fresh := configured(t, dir)
	waitFor(t, "the job to succeed", func() bool { return status(t, dir, ev.ID).Status == StatusSucceeded })
	r := fresh.Read(context.Background(), providers.ReadRequest{Items: []providers.ReadItem{{Address: "training_job.bg", Kind: Kind, ID: ev.ID,
		PriorHash: providers.AttrsHash(ev.New)}}})
	res := r.Results[0]
	if res.Unchanged || attr(t, res.Attrs, "status") != StatusSucceeded || res.Hash != providers.AttrsHash(res.Attrs) {
		t.Fatalf("want succeeded attributes, got %+v", res)
	}
	imp := fresh.Import(context.Background(), providers.ImportRequest{Kind: Kind, ID: ev.ID})
	if string(imp.Attrs) != string(res.Attrs) {
		t.Errorf("Import %s\nRead   %s", imp.Attrs, res.Attrs)
	}
	jobs, err := Jobs(dir)
	if err != nil || len(jobs) != 1 || jobs[0].Address != "training_job.bg" || jobs[0].ExitCode == nil || *jobs[0].ExitCode != 0 {
		t.Errorf("Jobs: %+v, %v", jobs, err)
	}
}

func TestRead_supervisorDied(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	ev := create(t, p, "training_job.orphan", jobAttrs(t, "running", 1, 2, 0, "sleep", "30"))
	jd := JobDir(dir, ev.ID)
	pid := readPID(jd)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the supervisor to die", func() bool { return !isSupervisor(pid, jd) })
	r := p.Read(context.Background(), providers.ReadRequest{Items: []providers.ReadItem{{Address: "training_job.orphan", Kind: Kind, ID: ev.ID}}})
	attrs := r.Results[0].Attrs
	if attr(t, attrs, "status") != StatusFailed || !strings.Contains(attr(t, attrs, "status_reason").(string), "died before the job finished") {
		t.Fatalf("want failed (supervisor died), got %s", attrs)
	}
	if len(jobProcesses(ev.ID)) != 2 {
		t.Fatalf("the orphaned ranks should still run: %v", jobProcesses(ev.ID))
	}
	// Deleting it kills the orphans, by their verified pids.
	del := lastEvent(t, runApply(context.Background(), p, providers.Change{Address: "training_job.orphan", Kind: Kind, Action: providers.ActionDelete, ID: ev.ID}))
	if del.Type != providers.EventDone {
		t.Fatalf("delete: %+v", del)
	}
	waitFor(t, "the orphans to die", func() bool { return len(jobProcesses(ev.ID)) == 0 })
}

func TestApply_adoptsLostCreate(t *testing.T) {
	dir := newWorkDir(t)
	p := configured(t, dir)
	planned := planNew(t, p, "training_job.lost", jobAttrs(t, "running", 1, 1, 0, "sleep", "30"))
	ch := providers.Change{Address: "training_job.lost", Kind: Kind, Action: providers.ActionCreate, Planned: planned}
	first := lastEvent(t, runApply(context.Background(), p, ch)) // its answer is "lost"
	second := lastEvent(t, runApply(context.Background(), p, ch))
	if second.Type != providers.EventDone || second.ID != first.ID {
		t.Fatalf("want the first job adopted, got %+v (first %s)", second, first.ID)
	}
	ch.Replacing = first.ID
	third := lastEvent(t, runApply(context.Background(), p, ch))
	if third.ID == first.ID {
		t.Fatalf("a replacement must not adopt the job it replaces")
	}
}

func TestApply_rejectsOtherKinds(t *testing.T) {
	dir := newWorkDir(t)
	ev := lastEvent(t, runApply(context.Background(), configured(t, dir), providers.Change{Address: "hardware.gpu[0]", Kind: "hardware", Action: providers.ActionCreate, Planned: providers.Attrs(`{}`)}))
	if ev.Type != providers.EventFailed || !strings.Contains(ev.Message, "Unsupported resource kind") {
		t.Errorf("want unsupported kind, got %+v", ev)
	}
}
