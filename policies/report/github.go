package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/fabrica-iac/fabrica/policies"
)

// GitHub writes the report as GitHub Actions workflow commands, which GitHub turns into
// annotations on the offending lines of the pull request: ::error for a deny,
// ::warning for a warning or a waiver note, ::notice for a waived finding. The title is
// the rule id; the message starts with the resource address.
func GitHub(w io.Writer, r *policies.Report) error {
	p := &printer{w: w}
	for _, f := range r.Findings {
		cmd := "error"
		msg := f.Message
		switch f.Severity {
		case policies.Warn:
			cmd = "warning"
		case policies.Waived:
			cmd = "notice"
			msg = fmt.Sprintf("waived until %s (%s): %s", f.Waiver.ExpiryString(), f.Waiver.Reason, msg)
		}
		if f.WaiverExpired() {
			msg += fmt.Sprintf(" (waiver expired after %s)", f.Waiver.ExpiryString())
		}
		if f.Address != "" {
			msg = f.Address + ": " + msg
		}
		p.printf("::%s %s::%s\n", cmd, ghProperties(f.Range, f.RuleID), ghData(msg))
	}
	for _, n := range r.WaiverNotes {
		p.printf("::warning %s::%s\n", ghProperties(n.Waiver.Range, "waiver "+string(n.Kind)), ghData(n.Message))
	}
	return p.err
}

// ghProperties renders file, line, col, endLine, endColumn and title; col and endColumn
// only for a range on one line, as GitHub requires.
func ghProperties(rng *policies.Range, title string) string {
	var props []string
	if rng != nil && rng.Filename != "" {
		props = append(props, "file="+ghProperty(rng.Filename), fmt.Sprintf("line=%d", rng.Start.Line))
		end := rng.End.Line
		if end < rng.Start.Line {
			end = rng.Start.Line
		}
		if end == rng.Start.Line && rng.Start.Column > 0 {
			props = append(props, fmt.Sprintf("col=%d", rng.Start.Column))
		}
		props = append(props, fmt.Sprintf("endLine=%d", end))
		if end == rng.Start.Line && rng.End.Column > rng.Start.Column {
			props = append(props, fmt.Sprintf("endColumn=%d", rng.End.Column))
		}
	}
	props = append(props, "title="+ghProperty(title))
	return strings.Join(props, ",")
}

var (
	ghDataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func ghData(s string) string     { return ghDataEscaper.Replace(s) }
func ghProperty(s string) string { return ghPropertyEscaper.Replace(s) }
