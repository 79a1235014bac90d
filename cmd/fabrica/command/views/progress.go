package views

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/providers"
)

// Progress prints apply progress, one line per event, buffered (100,000 changes print
// 200,000 lines) and flushed at least every second and at the end.
type Progress struct {
	w         *bufio.Writer
	lastFlush time.Time
}

// NewProgress returns a progress printer writing to w.
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: bufio.NewWriterSize(w, 64<<10), lastFlush: time.Now()}
}

var verbs = map[providers.Action][3]string{
	providers.ActionCreate: {"Creating", "Creation", "creating"},
	providers.ActionUpdate: {"Modifying", "Modifications", "modifying"},
	providers.ActionDelete: {"Destroying", "Destruction", "destroying"},
}

// Event prints one progress event.
func (p *Progress) Event(ev planner.ProgressEvent) {
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
	if time.Since(p.lastFlush) > time.Second || ev.Type == planner.ProgressFailed || ev.Type == planner.ProgressStill {
		p.Flush()
	}
}

// Flush writes out buffered lines.
func (p *Progress) Flush() {
	p.w.Flush()
	p.lastFlush = time.Now()
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
