package local

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Log tail limits: how often new rank-0 lines are sent, how many at most each time, and
// how much of the log is read at once.
const (
	logEvery     = time.Second
	maxTailLines = 20
	maxTailBytes = 64 << 10
	firstPoll    = 5 * time.Millisecond
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
	tail := newTailer(rankLog(j.dir, 0), fromEnd)
	poll := time.NewTimer(firstPoll) // polls quickly at first, then every statusPoll
	defer poll.Stop()
	every := firstPoll
	logs := time.NewTicker(logEvery)
	defer logs.Stop()
	last := ""
	for {
		if key := st.Status + "/" + strconv.Itoa(st.Restarts); key != last {
			last = key
			send(providers.Event{Type: providers.EventProgress, Stage: st.Status, Message: reasonText(j.Address, st)})
		}
		if final(st.Status) || (wait == launch.WaitRunning && st.Status != StatusPending) {
			break
		}
		select {
		case <-ctx.Done():
			return detach(j, st, tail, send)
		case <-p.stopped:
			return detach(j, st, tail, send)
		case <-logs.C:
			tail.send(send, false)
		case <-poll.C:
			every = min(2*every, statusPoll)
			poll.Reset(every)
		}
		if st, err = observe(j, true); err != nil {
			return providers.Event{Type: providers.EventFailed, ID: j.ID, Message: fmt.Sprintf("job %s: %v", j.ID, err)}
		}
	}
	tail.send(send, final(st.Status))
	return result(j, st)
}

// detach ends a wait early, leaving the job alone: Done with its status as it is now.
func detach(j *jobFile, st jobStatus, tail *tailer, send func(providers.Event)) providers.Event {
	tail.send(send, false)
	if now, err := observe(j, true); err == nil {
		st = now
	}
	return done(j, st, fmt.Sprintf("detached: the job keeps running; fabrica logs %s --follow to watch it", j.Address))
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

// tailer follows a log file, returning the complete lines added since the last call.
type tailer struct {
	path    string
	off     int64
	partial []byte
}

func newTailer(path string, fromEnd bool) *tailer {
	t := &tailer{path: path}
	if fromEnd {
		if fi, err := os.Stat(path); err == nil {
			t.off = fi.Size()
		}
	}
	return t
}

// lines returns the new complete lines (and, with flush, a last line without newline)
// and how many older ones were skipped to keep to maxTailLines.
func (t *tailer) lines(flush bool) ([]string, int) {
	f, err := os.Open(t.path)
	if err != nil {
		return nil, 0
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		if fi.Size() < t.off { // truncated: start again
			t.off, t.partial = 0, nil
		}
		if fi.Size()-t.off > maxTailBytes {
			t.off, t.partial = fi.Size()-maxTailBytes, nil
		}
	}
	buf := make([]byte, maxTailBytes)
	n, err := f.ReadAt(buf, t.off)
	if err != nil && err != io.EOF {
		return nil, 0
	}
	t.off += int64(n)
	data := append(t.partial, buf[:n]...)
	cut := bytes.LastIndexByte(data, '\n')
	if flush {
		cut = len(data)
	}
	if cut < 0 {
		t.partial = data
		return nil, 0
	}
	t.partial = append([]byte(nil), data[min(cut+1, len(data)):]...)
	text := strings.TrimRight(string(data[:cut]), "\n")
	if text == "" {
		return nil, 0
	}
	lines := strings.Split(text, "\n")
	skipped := max(len(lines)-maxTailLines, 0)
	return lines[skipped:], skipped
}

// send sends the new lines as log events.
func (t *tailer) send(send func(providers.Event), flush bool) {
	lines, skipped := t.lines(flush)
	if skipped > 0 {
		send(providers.Event{Type: providers.EventLog, Message: fmt.Sprintf("… %d lines of rank 0 skipped", skipped)})
	}
	for _, l := range lines {
		send(providers.Event{Type: providers.EventLog, Message: strings.TrimRight(l, "\r")})
	}
}
