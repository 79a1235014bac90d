package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/fabrica-iac/fabrica/policies"
)

// ANSI colors for Text.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
)

// Summary is the one-line tally of a report, e.g. "2 denied, 1 warning, 1 waived".
func Summary(r *policies.Report) string {
	c := r.Counts()
	if c.Deny+c.Warn+c.Waived == 0 {
		return "no findings"
	}
	var parts []string
	if c.Deny > 0 {
		parts = append(parts, fmt.Sprintf("%d denied", c.Deny))
	}
	if c.Warn > 0 {
		parts = append(parts, plural(c.Warn, "warning"))
	}
	if c.Waived > 0 {
		parts = append(parts, fmt.Sprintf("%d waived", c.Waived))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Text writes the report for a terminal: a summary line, then one block per finding
// (severity, rule id, resource, location, message), then the waiver notes. color adds
// ANSI colors.
func Text(w io.Writer, r *policies.Report, color bool) error {
	p := &printer{w: w}
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	p.printf("%s %s (%s)\n", paint(ansiBold, "Policy check:"), Summary(r), plural(len(r.Rules), "rule"))
	for _, f := range r.Findings {
		label, code := "DENY", ansiRed
		switch f.Severity {
		case policies.Warn:
			label, code = "WARN", ansiYellow
		case policies.Waived:
			label, code = "WAIVED", ansiCyan
		}
		subject := f.Address
		if f.Attribute != "" {
			subject += " (" + f.Attribute + ")"
		}
		p.printf("\n%s %s", paint(ansiBold+code, label), paint(ansiBold, f.RuleID))
		if subject != "" {
			p.printf(": %s", subject)
		}
		p.printf("\n")
		if f.Range != nil {
			p.printf("  %s\n", paint(ansiDim, "at "+Position(f.Range)))
		}
		p.printf("  %s\n", f.Message)
		if f.Waiver != nil {
			p.printf("  %s\n", paint(ansiDim, waiverLine(&f)))
		}
	}
	if len(r.WaiverNotes) > 0 {
		p.printf("\n%s\n", paint(ansiBold, "Waivers:"))
		for _, n := range r.WaiverNotes {
			at := ""
			if n.Waiver.Range != nil {
				at = " (" + Position(n.Waiver.Range) + ")"
			}
			p.printf("  %s %s%s\n", paint(ansiYellow, string(n.Kind)+":"), n.Message, at)
		}
	}
	return p.err
}

// Position renders a range's start as file:line:column.
func Position(rng *policies.Range) string {
	if rng == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d", rng.Filename, rng.Start.Line, rng.Start.Column)
}

// waiverLine describes a finding's waiver.
func waiverLine(f *policies.Finding) string {
	w := f.Waiver
	if f.WaiverExpired() {
		return fmt.Sprintf("waiver expired after %s: %s", w.ExpiryString(), w.Reason)
	}
	return fmt.Sprintf("waived until %s: %s", w.ExpiryString(), w.Reason)
}

// printer keeps the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
