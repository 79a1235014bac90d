package local

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Wait pacing: how often new rank-0 lines are sent (launch.Tailer limits how many), and
// the first status poll (later ones back off to statusPoll).
const (
	logEvery  = time.Second
	firstPoll = 5 * time.Millisecond
)

// await waits for the job as wait says: none returns at once, running until the ranks
// have started (or the job ended), completed until the job ended. It sends a progress
// event on each status change and the new lines of rank 0's log about every second. Stop
// or the end of ctx detaches: the result is Done with the status as it is, and the job
// goes on. fromEnd skips what rank 0 logged before (for a job launched earlier).
func (p *provider) await(ctx context.Context, j *jobFile, wait string, fromEnd bool, send func(providers.Event)) providers.Event {
	st, err := observe(j, true)
	if err != nil {
		return providers.Event{Type: providers.EventFailed, ID: j.ID, Message: fmt.Sprintf("job %s: %v", j.ID, err)}
	}
	if wait == launch.WaitNone {
		return done(j, st, "")
	}
	tail := launch.NewTailer(rankLog(j.dir, 0), fromEnd)
	poll := time.NewTimer(firstPoll) // polls quickly at first, then every statusPoll
	defer poll.Stop()
	every := firstPoll
	logs := time.NewTicker(logEvery)
	defer logs.Stop()
	last, ran := "", false
	for {
		if key := st.Status + "/" + strconv.Itoa(st.Restarts); key != last {
			last = key
			// A job quicker than a poll goes from pending to its end unseen: it did run.
			if final(st.Status) && !ran && st.StartedAt != "" {
				send(providers.Event{Type: providers.EventProgress, Stage: StatusRunning})
			}
			ran = ran || st.Status == StatusRunning
			send(providers.Event{Type: providers.EventProgress, Stage: st.Status, Message: reasonText(j.Address, st)})
		}
		if final(st.Status) || (wait == launch.WaitRunning && st.Status != StatusPending) {
			break
		}
		select {
		case <-ctx.Done():
			return detach(j, st, tail, send)
		case <-p.stop.Done():
			return detach(j, st, tail, send)
		case <-logs.C:
			tail.Send(send, false)
		case <-poll.C:
			every = min(2*every, statusPoll)
			poll.Reset(every)
		}
		if st, err = observe(j, true); err != nil {
			return providers.Event{Type: providers.EventFailed, ID: j.ID, Message: fmt.Sprintf("job %s: %v", j.ID, err)}
		}
	}
	tail.Send(send, final(st.Status))
	return result(j, st)
}

// detach ends a wait early, leaving the job alone: Done with its status as it is now.
func detach(j *jobFile, st jobStatus, tail *launch.Tailer, send func(providers.Event)) providers.Event {
	tail.Send(send, false)
	if now, err := observe(j, true); err == nil {
		st = now
	}
	return done(j, st, launch.DetachMessage(j.Address))
}

func done(j *jobFile, st jobStatus, msg string) providers.Event {
	return providers.Event{Type: providers.EventDone, ID: j.ID, New: attrsOf(j, st), Message: msg}
}

// result is the event for a job that reached what apply waited for: Failed (with the job
// and its attributes, so state keeps it) when it failed or was cancelled, else Done.
func result(j *jobFile, st jobStatus) providers.Event {
	ev := done(j, st, "job "+j.ID+" "+st.Status)
	switch st.Status {
	case StatusFailed:
		ev.Type, ev.Message = providers.EventFailed, reasonText(j.Address, st)
		if ev.Message == "" {
			ev.Message = "job " + j.ID + " failed"
		}
	case StatusCancelled:
		ev.Type, ev.Message = providers.EventFailed, "job "+j.ID+" was cancelled before it finished"
	}
	return ev
}
