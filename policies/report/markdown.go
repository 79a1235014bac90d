package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/fabrica-iac/fabrica/policies"
)

// MarkdownMarker is the first line of Markdown output, so a bot can find and update its
// earlier comment on a pull request instead of adding another.
const MarkdownMarker = "<!-- fabrica-policy-report -->"

// Markdown writes the report for a pull-request comment (GitHub or GitLab flavoured):
// a heading with the verdict and tally, a table of findings (severity, rule, resource,
// location, message), and the waiver notes.
func Markdown(w io.Writer, r *policies.Report) error {
	p := &printer{w: w}
	p.printf("%s\n", MarkdownMarker)
	verdict := "✅ passed"
	if r.Denied() {
		verdict = "❌ denied"
	}
	p.printf("### fabrica policy check: %s\n\n", verdict)
	p.printf("%s, %s evaluated.\n", capitalize(Summary(r)), plural(len(r.Rules), "rule"))
	if len(r.Findings) > 0 {
		p.printf("\n| | Rule | Resource | Location | Finding |\n|---|---|---|---|---|\n")
		for _, f := range r.Findings {
			sev := "🔴 deny"
			switch f.Severity {
			case policies.Warn:
				sev = "🟡 warn"
			case policies.Waived:
				sev = "⚪ waived"
			}
			res := ""
			if f.Address != "" {
				res = "`" + mdCell(f.Address) + "`"
				if f.Attribute != "" {
					res += " `" + mdCell(f.Attribute) + "`"
				}
			}
			loc := ""
			if f.Range != nil {
				loc = fmt.Sprintf("`%s:%d`", mdCell(f.Range.Filename), f.Range.Start.Line)
			}
			msg := mdCell(f.Message)
			if f.Waiver != nil {
				msg += "<br>_" + mdCell(waiverLine(&f)) + "_"
			}
			p.printf("| %s | `%s` | %s | %s | %s |\n", sev, f.RuleID, res, loc, msg)
		}
	}
	if len(r.WaiverNotes) > 0 {
		p.printf("\n**Waivers**\n\n")
		for _, n := range r.WaiverNotes {
			at := ""
			if n.Waiver.Range != nil {
				at = fmt.Sprintf(" (`%s:%d`)", n.Waiver.Range.Filename, n.Waiver.Range.Start.Line)
			}
			p.printf("- ⚠️ %s: %s%s\n", n.Kind, mdInline(n.Message), at)
		}
	}
	return p.err
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mdCell makes text safe in a table cell: no line breaks, pipes escaped, HTML-ish
// brackets neutralised.
func mdCell(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
	return s
}

func mdInline(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}
