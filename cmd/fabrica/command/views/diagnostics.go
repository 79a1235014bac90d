package views

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
)

const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiGreen  = "\x1b[32m"
	ansiReset  = "\x1b[0m"
)

// Diagnostics writes each diagnostic as
//
//	Error: Summary
//
//	  on main.fab.hcl:12:3, in hardware "gpu":
//	  12:   devise_type = "dgx-h100"
//	        ^^^^^^^^^^^
//
//	Detail.
//
// sources maps file names to their contents for the snippet.
func Diagnostics(w io.Writer, diags diag.Diagnostics, sources map[string][]byte, color bool) {
	for _, d := range diags {
		writeDiagnostic(w, d, sources, color)
	}
}

func writeDiagnostic(w io.Writer, d diag.Diagnostic, sources map[string][]byte, color bool) {
	label, c := "Error", ansiRed
	if d.Severity == diag.Warning {
		label, c = "Warning", ansiYellow
	}
	if color {
		fmt.Fprintf(w, "%s%s%s: %s%s\n", ansiBold, c, label, d.Summary, ansiReset)
	} else {
		fmt.Fprintf(w, "%s: %s\n", label, d.Summary)
	}
	if d.Subject != nil {
		fmt.Fprintln(w)
		writeSnippet(w, *d.Subject, sources[d.Subject.Filename])
	}
	if d.Detail != "" {
		fmt.Fprintf(w, "\n%s\n", d.Detail)
	}
	fmt.Fprintln(w)
}

// writeSnippet prints the location and the source line with the subject underlined.
func writeSnippet(w io.Writer, rng hcl.Range, src []byte) {
	fmt.Fprintf(w, "  on %s:%d:%d", rng.Filename, rng.Start.Line, rng.Start.Column)
	if src == nil {
		fmt.Fprintln(w, ":")
		return
	}
	lines := bytes.Split(src, []byte("\n"))
	if rng.Start.Line < 1 || rng.Start.Line > len(lines) {
		fmt.Fprintln(w, ":")
		return
	}
	if block := enclosingBlock(lines, rng.Start.Line); block != "" {
		fmt.Fprintf(w, ", in %s", block)
	}
	fmt.Fprintln(w, ":")
	line := strings.TrimRight(string(lines[rng.Start.Line-1]), "\r")
	prefix := fmt.Sprintf("  %d: ", rng.Start.Line)
	fmt.Fprintf(w, "%s%s\n", prefix, line)
	start := rng.Start.Column - 1
	end := len([]rune(line))
	if rng.End.Line == rng.Start.Line && rng.End.Column-1 > start {
		end = rng.End.Column - 1
	}
	if start < 0 || start > end {
		return
	}
	fmt.Fprintf(w, "%s%s%s\n", strings.Repeat(" ", len(prefix)), strings.Repeat(" ", start), strings.Repeat("^", max(1, end-start)))
}

// enclosingBlock finds the header of the top-level block around a line, such as
// `hardware "gpu"`, by scanning back to the last unindented line that opens a block.
func enclosingBlock(lines [][]byte, line int) string {
	for i := line - 1; i >= 0; i-- {
		l := string(lines[i])
		if l == "" || l[0] == ' ' || l[0] == '\t' || l[0] == '#' || l[0] == '}' || strings.HasPrefix(l, "//") {
			continue
		}
		if strings.HasSuffix(strings.TrimSpace(l), "{") {
			return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(l), "{"))
		}
		return ""
	}
	return ""
}
