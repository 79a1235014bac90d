package slurm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// logEvery is how often new rank-0 lines are sent (launch.Tailer limits how many).
const logEvery = time.Second

// observe returns the job's status: the final one recorded in status.json, else Slurm's
// (one coalesced squeue) combined with what the batch script recorded. A job that
// reaches a final status has it recorded.
func (p *provider) observe(ctx context.Context, c *cli, j *jobFile) (jobStatus, error) {
	if st, ok := readFinal(j.dir); ok {
		return st, nil
	}
	if j.SlurmID == "" {
		return p.observeByName(ctx, c, j)
	}
	p.mu.Lock()
	poll := p.poll
	p.mu.Unlock()
	sj, known, err := poll.query(ctx, j.SlurmID)
	if err != nil {
		return jobStatus{Status: StatusPending}, err
	}
	return settle(j, sj, known && sj.Name == j.ID), nil
}

// observeByName finds a job whose submission was not recorded (fabrica stopped while
// sbatch ran) by its name, the job id.
func (p *provider) observeByName(ctx context.Context, c *cli, j *jobFile) (jobStatus, error) {
	if err := p.ping(ctx, c, true); err != nil {
		return jobStatus{Status: StatusPending}, err
	}
	found, err := c.squeue(ctx, "--name", []string{j.ID})
	if err != nil {
		return jobStatus{Status: StatusPending}, err
	}
	for id, sj := range found {
		j.SlurmID, j.Spec.JobID, j.Spec.MasterPort = id, id, MasterPort(id)
		_ = writeJob(j)
		return settle(j, sj, true), nil
	}
	st := jobStatus{Status: StatusFailed, Message: "the job never reached Slurm: fabrica stopped before sbatch answered"}
	_ = writeFinal(j.dir, st)
	return st, nil
}

// settle combines Slurm's record (known is false when Slurm no longer has the job) with
// the batch script's files, and records a final status.
func settle(j *jobFile, sj slurmJob, known bool) jobStatus {
	o := readOutcome(j.dir)
	var st jobStatus
	if known {
		st = statusOf(sj, o)
	} else {
		st = forgotten(j.SlurmID, o)
	}
	if final(st.Status) {
		_ = writeFinal(j.dir, st)
	}
	return st
}

// await waits for the job as wait says: none returns at once (status pending), running
// until the job started (or ended), completed until it ended. It sends a progress event
// on each status change and the new lines of rank 0's log about every second. Stop or
// the end of ctx detaches: the result is Done with the status as it is, and the job goes
// on. While slurmctld does not answer it keeps trying for p.grace, then fails with the
// job's id and attributes so that state keeps it. fromEnd skips what rank 0 logged
// before (for a job submitted earlier).
func (p *provider) await(ctx context.Context, j *jobFile, wait string, fromEnd bool, send func(providers.Event)) providers.Event {
	_, cfg, c, _ := p.configured()
	st := jobStatus{Status: StatusPending}
	if wait == launch.WaitNone {
		if fst, ok := readFinal(j.dir); ok {
			st = fst
		}
		return done(j, st, "")
	}
	wctx, cancel := context.WithCancel(ctx) // ends on Stop too
	defer cancel()
	go func() {
		select {
		case <-p.stop.Done():
			cancel()
		case <-wctx.Done():
		}
	}()
	w := &waiter{j: j, wait: wait, send: send, tail: launch.NewTailer(rankLog(j.dir, 0), fromEnd), lastLog: time.Now()}
	for {
		tick := time.After(cfg.PollInterval) // the poller's rounds pace observe; this paces the rest
		obs, err := p.observe(wctx, c, j)
		if wctx.Err() != nil {
			w.tail.Send(send, false)
			return done(j, st, launch.DetachMessage(j.Address))
		}
		if ev, end := w.step(&st, obs, err, p.grace); end {
			return ev
		}
		select {
		case <-wctx.Done():
		case <-tick:
		}
	}
}

// waiter is the state of one await.
type waiter struct {
	j         *jobFile
	wait      string
	send      func(providers.Event)
	tail      *launch.Tailer
	lastLog   time.Time
	last      string    // status/restarts last reported
	downSince time.Time // when slurmctld stopped answering, zero while it answers
}

// step takes one observation into st and reports what changed; end is true with the
// result when the wait is over.
func (w *waiter) step(st *jobStatus, obs jobStatus, err error, grace time.Duration) (providers.Event, bool) {
	j := w.j
	switch {
	case err != nil && isUnreachable(err):
		if w.downSince.IsZero() {
			w.downSince = time.Now()
			w.send(providers.Event{Type: providers.EventProgress, Stage: "unreachable", Message: fmt.Sprintf("%v; retrying for %s", err, grace)})
		}
		if time.Since(w.downSince) > grace {
			ev := done(j, *st, "")
			ev.Type = providers.EventFailed
			ev.Message = fmt.Sprintf("%v (for %s); job %s (Slurm job %s) is kept in state: fabrica refresh reads it once slurmctld answers", err, grace, j.ID, j.SlurmID)
			return ev, true
		}
	case err != nil:
		return providers.Event{Type: providers.EventFailed, ID: j.ID, New: attrsOf(j, *st), Message: fmt.Sprintf("job %s: %v", j.ID, err)}, true
	default:
		*st, w.downSince = obs, time.Time{}
	}
	if key := st.Status + "/" + strconv.Itoa(st.Restarts); key != w.last {
		w.last = key
		w.send(providers.Event{Type: providers.EventProgress, Stage: st.Status, Message: reasonText(j.Address, *st)})
	}
	if final(st.Status) || (w.wait == launch.WaitRunning && st.Status != StatusPending) {
		w.tail.Send(w.send, final(st.Status))
		return result(j, *st), true
	}
	if st.Stuck {
		ev := done(j, *st, "")
		ev.Type = providers.EventFailed
		ev.Message = fmt.Sprintf("Slurm job %s stays pending: %s; it is kept in the queue and in state (fabrica destroy, or scancel %s, removes it)",
			j.SlurmID, strings.TrimPrefix(st.Message, "Slurm will not start it as it is: "), j.SlurmID)
		return ev, true
	}
	if time.Since(w.lastLog) >= logEvery {
		w.tail.Send(w.send, false)
		w.lastLog = time.Now()
	}
	return providers.Event{}, false
}

func done(j *jobFile, st jobStatus, msg string) providers.Event {
	return providers.Event{Type: providers.EventDone, ID: j.ID, New: attrsOf(j, st), Message: msg}
}

// result is the event for a job that reached what apply waited for: Failed (with the job
// and its attributes, so state keeps it) when it failed or was cancelled, else Done.
func result(j *jobFile, st jobStatus) providers.Event {
	ev := done(j, st, fmt.Sprintf("job %s (Slurm job %s) %s", j.ID, j.SlurmID, st.Status))
	switch st.Status {
	case StatusFailed:
		ev.Type, ev.Message = providers.EventFailed, reasonText(j.Address, st)
		if ev.Message == "" {
			ev.Message = "job " + j.ID + " failed"
		}
	case StatusCancelled:
		ev.Type, ev.Message = providers.EventFailed, fmt.Sprintf("job %s (Slurm job %s) was cancelled before it finished", j.ID, j.SlurmID)
	}
	return ev
}
