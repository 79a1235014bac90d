package launch

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fabrica-iac/fabrica/providers"
)

// Log tail limits: how many rank-0 lines a Tailer sends at most each time, and how much
// of the log it reads at once, so a chatty job cannot flood apply's output.
const (
	maxTailLines = 20
	maxTailBytes = 64 << 10
)

// Tailer follows a log file (rank 0's, while apply waits for a job), returning the
// complete lines added since the last call. The providers pace it; it only reads.
type Tailer struct {
	path    string
	off     int64
	partial []byte
}

// NewTailer follows the log at path; fromEnd skips what it holds already (for a job
// launched by an earlier apply, whose output was shown then).
func NewTailer(path string, fromEnd bool) *Tailer {
	t := &Tailer{path: path}
	if fromEnd {
		if fi, err := os.Stat(path); err == nil {
			t.off = fi.Size()
		}
	}
	return t
}

// lines returns the new complete lines (and, with flush, a last line without newline)
// and how many older ones were skipped to keep to maxTailLines.
func (t *Tailer) lines(flush bool) ([]string, int) {
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

// Send sends the new lines as log events; flush sends a last line without its newline
// too (once the job is final and will write no more).
func (t *Tailer) Send(send func(providers.Event), flush bool) {
	lines, skipped := t.lines(flush)
	if skipped > 0 {
		send(providers.Event{Type: providers.EventLog, Message: fmt.Sprintf("… %d lines of rank 0 skipped", skipped)})
	}
	for _, l := range lines {
		send(providers.Event{Type: providers.EventLog, Message: strings.TrimRight(l, "\r")})
	}
}
