package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// supervisorSlack is how long a cancel waits for the supervisor beyond the kill grace it
// gives the ranks, before it kills the supervisor too.
const supervisorSlack = 5 * time.Second

// Apply carries out each change on its own goroutine, so the caller's parallelism is how
// many changes it sends before their Done or Failed events. A create launches the job
// and waits as its wait argument says; an update records wait (and the other in-place
// arguments) and waits likewise; a delete cancels the job. Stop, or the end of ctx,
// detaches the waits: the jobs keep running.
func (p *provider) Apply(ctx context.Context, changes <-chan providers.Change, events chan<- providers.Event) error {
	launch.ApplyConcurrently(changes, events, func(ch providers.Change, send func(providers.Event)) providers.Event {
		return p.change(ctx, ch, send)
	})
	return nil
}

// change carries out one change and returns its Done or Failed event.
func (p *provider) change(ctx context.Context, ch providers.Change, send func(providers.Event)) providers.Event {
	workDir, grace, diags := p.configured()
	if diags != nil {
		return failedDiags(diags)
	}
	if ch.Kind != Kind {
		return failedDiags([]providers.Diagnostic{unsupportedKind(ch.Kind)})
	}
	switch ch.Action {
	case providers.ActionCreate:
		return p.create(ctx, workDir, grace, ch, send)
	case providers.ActionUpdate:
		return p.update(ctx, workDir, ch, send)
	case providers.ActionDelete:
		return p.cancel(workDir, ch)
	}
	return failed(fmt.Sprintf("the local provider cannot %q %s", ch.Action, ch.Address))
}

// create launches a job, or adopts the one an earlier apply launched for the same address
// and arguments when that apply's answer was lost (fabrica was killed while waiting).
func (p *provider) create(ctx context.Context, workDir string, grace time.Duration, ch providers.Change, send func(providers.Event)) providers.Event {
	spec, diags := launch.SpecFromAttrs(ch.Planned)
	if providers.HasErrors(diags) {
		return failedDiags(diags)
	}
	if j := adoptable(workDir, ch); j != nil {
		send(providers.Event{Type: providers.EventProgress, Stage: "adopted",
			Message: fmt.Sprintf("job %s, launched by an earlier apply, is still there", j.ID)})
		return p.await(ctx, j, spec.Wait, true, send)
	}
	if p.stop.Stopped() {
		return failed("stopped before the job was launched")
	}
	if err := ctx.Err(); err != nil {
		return failed("cancelled before the job was launched: " + err.Error())
	}
	j, err := p.launch(workDir, grace, ch, spec)
	if err != nil {
		ev := failed(fmt.Sprintf("cannot launch the job: %v", err))
		if j != nil {
			st, _ := readStatus(j.dir)
			ev.ID, ev.New = j.ID, attrsOf(j, st)
		}
		return ev
	}
	send(providers.Event{Type: providers.EventProgress, Stage: "submitted", Message: fmt.Sprintf("job %s (%s, logs in %s)",
		j.ID, launch.Layout(j.Spec.Nodes, j.Spec.ProcsPerNode), j.dir)})
	return p.await(ctx, j, spec.Wait, false, send)
}

// launch makes the job's directory, writes spec.json and status.json (pending) and
// starts the supervisor. A returned job with an error has a directory and a failed
// status.
func (p *provider) launch(workDir string, grace time.Duration, ch providers.Change, spec launch.Spec) (*jobFile, error) {
	attrs, err := decodeObject(ch.Planned)
	if err != nil {
		return nil, fmt.Errorf("planned attributes: %w", err)
	}
	id, dir, err := newJobDir(workDir, ch.Address)
	if err != nil {
		return nil, err
	}
	spec = resolveSpec(workDir, spec)
	spec.JobID, spec.RunID = id, id
	if spec.CheckpointDir == "" {
		spec.CheckpointDir = filepath.Join(dir, checkpointsDir)
	}
	spec.MasterAddr, spec.MasterPort = masterAddr, p.takePort(launch.DefaultPort(ch.Address))
	for k := range attrs {
		if computed[k] {
			delete(attrs, k)
		}
	}
	attrs[attrLogDir], attrs[attrLaunch] = rawJSON(dir), rawJSON(spec.Summary())
	j := &jobFile{FormatVersion: jobFormat, ID: id, Address: ch.Address, CreatedAt: time.Now().UTC(), Spec: spec,
		KillGraceMS: grace.Milliseconds(), Attrs: encodeObject(attrs), dir: dir}
	if err := writeJob(j); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := writeStatus(dir, jobStatus{Status: StatusPending}); err != nil {
		return j, err
	}
	if _, err := startSupervisor(dir); err != nil {
		_ = writeStatus(dir, jobStatus{Status: StatusFailed, FinishedAt: now(), Message: "cannot start the job's supervisor: " + err.Error()})
		return j, fmt.Errorf("cannot start the job's supervisor: %w", err)
	}
	return j, nil
}

// adoptable returns the newest job for the change's address that is not the one being
// replaced, was not deleted, has the planned arguments and has not failed or been
// cancelled; nil when there is none.
func adoptable(workDir string, ch providers.Change) *jobFile {
	planned, err := decodeObject(ch.Planned)
	if err != nil {
		return nil
	}
	entries, _ := os.ReadDir(jobsRoot(workDir))
	prefix := idName(ch.Address) + "-"
	var best *jobFile
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || e.Name() == ch.Replacing {
			continue
		}
		j, err := readJob(filepath.Join(jobsRoot(workDir), e.Name()))
		if err != nil || j.Address != ch.Address || released(j.dir) || (best != nil && j.CreatedAt.Before(best.CreatedAt)) {
			continue
		}
		attrs, err := decodeObject(j.Attrs)
		if err != nil || len(launch.Relaunching(changedArgs(attrs, planned), inPlace)) > 0 {
			continue
		}
		if st, err := observe(j, true); err == nil && st.Status != StatusFailed && st.Status != StatusCancelled {
			best = j
		}
	}
	return best
}

// update records the planned arguments (only in-place ones can differ) and waits as the
// new wait says.
func (p *provider) update(ctx context.Context, workDir string, ch providers.Change, send func(providers.Event)) providers.Event {
	j, _, gone, err := load(workDir, ch.ID)
	if gone {
		return failed(fmt.Sprintf("job %s of %s no longer exists; run fabrica plan again to see it gone", ch.ID, ch.Address))
	}
	if err != nil {
		return failed(err.Error())
	}
	planned, err := decodeObject(ch.Planned)
	if err != nil {
		return failed(fmt.Sprintf("planned attributes: %v", err))
	}
	attrs, err := decodeObject(j.Attrs)
	if err != nil {
		return failed(fmt.Sprintf("job %s: %v", j.ID, err))
	}
	for k := range attrs {
		if !computed[k] {
			delete(attrs, k)
		}
	}
	for k, v := range planned {
		if !computed[k] {
			attrs[k] = v
		}
	}
	j.Attrs = encodeObject(attrs)
	if err := writeJob(j); err != nil {
		return failed(fmt.Sprintf("job %s: %v", j.ID, err))
	}
	spec, _ := launch.SpecFromAttrs(ch.Planned)
	return p.await(ctx, j, spec.Wait, true, send)
}

// cancel stops a job (SIGTERM to its supervisor, which stops the ranks) and marks it
// deleted; its directory and logs stay. A job that has finished is only marked.
func (p *provider) cancel(workDir string, ch providers.Change) providers.Event {
	j, st, gone, err := load(workDir, ch.ID)
	if gone {
		return providers.Event{Type: providers.EventDone, ID: ch.ID, Message: "job " + ch.ID + " is gone already"}
	}
	if err != nil {
		return failed(err.Error())
	}
	msg := fmt.Sprintf("job %s had already %s", j.ID, st.Status)
	if !final(st.Status) {
		if st, err = stopJob(j); err != nil {
			return failed(fmt.Sprintf("cancelling job %s: %v", j.ID, err))
		}
		msg = fmt.Sprintf("job %s %s", j.ID, st.Status)
	}
	killRanks(j.ID, st.PIDs, syscall.SIGKILL) // what a dead supervisor left
	if err := release(j.dir); err != nil {
		return failed(fmt.Sprintf("job %s: %v", j.ID, err))
	}
	return providers.Event{Type: providers.EventDone, ID: j.ID, Message: msg}
}

// stopJob sends SIGTERM to the job's supervisor (verified by its arguments, never found
// by name) and waits until the status is final (the supervisor writes it once the ranks
// are gone) or the supervisor ended; one that outlives the ranks' kill grace by
// supervisorSlack is killed. A job left without a final status (its supervisor was gone
// or killed) has its ranks killed and is recorded cancelled.
func stopJob(j *jobFile) (jobStatus, error) {
	pid := readPID(j.dir)
	if isSupervisor(pid, j.dir) {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		deadline := time.Now().Add(j.grace() + supervisorSlack)
		for !finished(j.dir) && isSupervisor(pid, j.dir) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				break
			}
			time.Sleep(statusPoll / 5)
		}
	}
	st, err := readStatus(j.dir)
	if err != nil || final(st.Status) {
		return st, err
	}
	killRanks(j.ID, st.PIDs, syscall.SIGKILL)
	st.Status, st.FinishedAt = StatusCancelled, now()
	st.Message = "cancelled; its supervisor was not running, so fabrica killed the ranks"
	return st, writeStatus(j.dir, st)
}

// finished reports whether the job's status is final.
func finished(dir string) bool {
	st, err := readStatus(dir)
	return err == nil && final(st.Status)
}

// load reads a job and its status (see observe). gone is true when there is no such job
// or fabrica deleted it.
func load(workDir, id string) (j *jobFile, st jobStatus, gone bool, err error) {
	if !validID(id) {
		return nil, st, true, nil
	}
	dir := JobDir(workDir, id)
	j, err = readJob(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, st, true, nil
	}
	if err != nil {
		return nil, st, false, err
	}
	if released(dir) {
		return j, st, true, nil
	}
	st, err = observe(j, true)
	return j, st, false, err
}

// The change events shared with the other scheduler providers (providers/launch).
var (
	failed      = launch.Failed
	failedDiags = launch.FailedDiags
)
