package views

import (
	"bufio"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/providers"
)

// Progress prints apply progress, one line per event, buffered (100,000 changes print
// 200,000 lines) and flushed a quarter of a second after the first line it holds, at
// once for a failure or a "still running" line, and at the end: a pipeline's log
// shows a change start even when nothing follows it for minutes.
type Progress struct {
	mu      sync.Mutex
	w       *bufio.Writer
	pending *time.Timer // flushes what is buffered; nil when nothing is
}

// progressFlushDelay is how long a progress line may wait in the buffer.
const progressFlushDelay = 250 * time.Millisecond

// NewProgress returns a progress printer writing to w.
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: bufio.NewWriterSize(w, 64<<10)}
}

var verbs = map[providers.Action][3]string{
	providers.ActionCreate: {"Creating", "Creation", "creating"},
	providers.ActionUpdate: {"Modifying", "Modifications", "modifying"},
	providers.ActionDelete: {"Destroying", "Destruction", "destroying"},
}

// Event prints one progress event.
func (p *Progress) Event(ev planner.ProgressEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := verbs[ev.Action]
	secs := fmt.Sprintf("%.1fs", ev.Elapsed.Seconds())
	switch ev.Type {
	case planner.ProgressStarted:
		fmt.Fprintf(p.w, "%s: %s...\n", ev.Address, v[0])
	case planner.ProgressStage:
		fmt.Fprintf(p.w, "%s: %s\n", ev.Address, ev.Stage)
	case planner.ProgressLog:
		fmt.Fprintf(p.w, "%s: %s\n", ev.Address, ev.Message)
	case planner.ProgressStill:
		fmt.Fprintf(p.w, "%s: Still %s... [%ds elapsed]\n", ev.Address, v[2], int(ev.Elapsed.Seconds()))
	case planner.ProgressDone:
		fmt.Fprintf(p.w, "%s: %s complete after %s\n", ev.Address, v[1], secs)
	case planner.ProgressFailed:
		fmt.Fprintf(p.w, "%s: %s failed after %s: %s\n", ev.Address, v[1], secs, ev.Message)
	case planner.ProgressSkipped:
		fmt.Fprintf(p.w, "%s: Skipped: %s\n", ev.Address, ev.Message)
	}
	switch {
	case ev.Type == planner.ProgressFailed || ev.Type == planner.ProgressStill:
		p.flushLocked()
	case p.pending == nil:
		p.pending = time.AfterFunc(progressFlushDelay, p.Flush)
	}
}

// Flush writes out buffered lines.
func (p *Progress) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushLocked()
}

func (p *Progress) flushLocked() {
	if p.pending != nil {
		p.pending.Stop()
		p.pending = nil
	}
	p.w.Flush()
}

// ApplySummary prints the closing line of an apply.
func ApplySummary(w io.Writer, s planner.ApplySummary, destroy bool) {
	counts := fmt.Sprintf("%d added, %d changed, %d destroyed", s.Added, s.Changed, s.Destroyed)
	if destroy {
		counts = fmt.Sprintf("%d destroyed", s.Destroyed)
	}
	if s.Failed > 0 || s.Skipped > 0 {
		fmt.Fprintf(w, "\nApply failed after %s: %d failed, %d skipped; %s.\n", seconds(s.Duration), s.Failed, s.Skipped, counts)
		return
	}
	word := "Apply"
	if destroy {
		word = "Destroy"
	}
	fmt.Fprintf(w, "\n%s complete after %s! Resources: %s.\n", word, seconds(s.Duration), counts)
}

// seconds formats a duration as seconds, with two decimals below ten seconds.
func seconds(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
