// Package diag holds fabrica's diagnostics: the errors and warnings about a user's
// configuration, each tied to a source range. It imports nothing of fabrica's, so every
// other package can return diagnostics.
//
// Diagnostics deliberately do not implement error: a nil list is "no problems", and a
// function that takes user input returns Diagnostics rather than a Go error.
package diag

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// Severity says whether a diagnostic stops the operation.
type Severity int

const (
	// Error stops the operation.
	Error Severity = iota
	// Warning is shown but lets the operation go on.
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem found in user input.
type Diagnostic struct {
	Severity Severity
	// Summary is a short constant phrase ("Unsupported argument").
	Summary string
	// Detail says what is wrong, why, and how to fix it, in full sentences.
	Detail string
	// Subject is the tightest range that shows the problem; nil when none is known.
	Subject *hcl.Range
	// Context is a wider range around Subject, for the snippet.
	Context *hcl.Range
	// Address is the resource instance the diagnostic is about, when there is one.
	Address string
}

// Diagnostics is a list of diagnostics; nil means none.
type Diagnostics []Diagnostic

// Append adds diagnostics from errors, hcl.Diagnostics, *hcl.Diagnostic, Diagnostic and
// Diagnostics values, and returns the extended list.
func (d Diagnostics) Append(items ...any) Diagnostics {
	for _, item := range items {
		switch v := item.(type) {
		case nil:
		case Diagnostic:
			d = append(d, v)
		case Diagnostics:
			d = append(d, v...)
		case *hcl.Diagnostic:
			if v != nil {
				d = append(d, FromHCL(v))
			}
		case hcl.Diagnostics:
			for _, hd := range v {
				d = append(d, FromHCL(hd))
			}
		case error:
			var hd hcl.Diagnostics
			if errors.As(v, &hd) {
				d = d.Append(hd)
				continue
			}
			d = append(d, Diagnostic{Severity: Error, Summary: v.Error()})
		default:
			panic(fmt.Sprintf("diag.Append: unsupported type %T", item))
		}
	}
	return d
}

// FromHCL converts one HCL diagnostic.
func FromHCL(hd *hcl.Diagnostic) Diagnostic {
	sev := Error
	if hd.Severity == hcl.DiagWarning {
		sev = Warning
	}
	return Diagnostic{Severity: sev, Summary: hd.Summary, Detail: hd.Detail, Subject: hd.Subject, Context: hd.Context}
}

// Errorf builds an error diagnostic at rng.
func Errorf(rng hcl.Range, summary, detailFormat string, args ...any) Diagnostic {
	r := rng
	return Diagnostic{Severity: Error, Summary: summary, Detail: fmt.Sprintf(detailFormat, args...), Subject: &r}
}

// Warnf builds a warning diagnostic at rng.
func Warnf(rng hcl.Range, summary, detailFormat string, args ...any) Diagnostic {
	d := Errorf(rng, summary, detailFormat, args...)
	d.Severity = Warning
	return d
}

// HasErrors reports whether any diagnostic is an error.
func (d Diagnostics) HasErrors() bool {
	for _, x := range d {
		if x.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns only the error diagnostics.
func (d Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, x := range d {
		if x.Severity == Error {
			out = append(out, x)
		}
	}
	return out
}

// Err returns the diagnostics as one Go error when there is an error among them, for
// plumbing that must return error; nil otherwise.
func (d Diagnostics) Err() error {
	errs := d.Errors()
	if len(errs) == 0 {
		return nil
	}
	return diagError(errs)
}

type diagError Diagnostics

func (e diagError) Error() string {
	first := e[0]
	msg := first.Summary
	if first.Subject != nil {
		msg = fmt.Sprintf("%s: %s", first.Subject.String(), msg)
	}
	if first.Detail != "" {
		msg += ": " + first.Detail
	}
	if len(e) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(e)-1)
	}
	return msg
}

// Sort orders diagnostics by file, position, severity and summary, so output is
// deterministic whatever order evaluation found them in.
func (d Diagnostics) Sort() {
	slices.SortStableFunc(d, func(a, b Diagnostic) int {
		af, al, ab := position(a)
		bf, bl, bb := position(b)
		return cmp.Or(cmp.Compare(af, bf), cmp.Compare(al, bl), cmp.Compare(ab, bb),
			cmp.Compare(a.Severity, b.Severity), cmp.Compare(a.Summary, b.Summary),
			cmp.Compare(a.Detail, b.Detail))
	})
}

// Dedup removes exact repeats (same severity, summary, detail and subject), which arise
// when one bad expression is evaluated for every instance of a counted resource.
func (d Diagnostics) Dedup() Diagnostics {
	type key struct {
		sev             Severity
		summary, detail string
		rng             hcl.Range
	}
	seen := make(map[key]bool, len(d))
	out := d[:0]
	for _, x := range d {
		k := key{sev: x.Severity, summary: x.Summary, detail: x.Detail}
		if x.Subject != nil {
			k.rng = *x.Subject
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, x)
	}
	return out
}

func position(d Diagnostic) (string, int, int) {
	if d.Subject == nil {
		return "", 0, 0
	}
	return d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Byte
}
