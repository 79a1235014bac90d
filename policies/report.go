package policies

import (
	"cmp"
	"slices"
	"time"

	"github.com/fabrica-iac/fabrica/schema/diag"
)

// Severity is how a finding bears on the plan.
type Severity string

// Severities of findings.
const (
	// Deny findings stop apply (exit 3).
	Deny Severity = "deny"
	// Warn findings are shown and let the plan go on.
	Warn Severity = "warn"
	// Waived findings are denies or warnings that a waiver in force covers.
	Waived Severity = "waived"
)

// Range and Pos are source ranges, in the JSON shape of the plan's decl_range (see
// diag.Range).
type (
	Range = diag.Range
	Pos   = diag.Pos
)

// Finding is one result of one policy rule about one resource (or about the plan as a
// whole, when Address is empty).
type Finding struct {
	// RuleID names the rule: the package path without "fabrica." plus the rule name,
	// e.g. "energy.pue.deny".
	RuleID   string   `json:"rule_id"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Address is the resource instance the finding is about, e.g. "facility.pod".
	Address string `json:"address,omitempty"`
	// Attribute is the argument the finding is about, e.g. "design_pue" or
	// "protection.replicas", when the rule named one.
	Attribute string `json:"attribute,omitempty"`
	// Range locates the finding in the configuration: the attribute's range when the
	// plan has one, else the resource's declaration; nil when the address is unknown.
	Range *Range `json:"range,omitempty"`
	// Waiver is the waiver that covers the finding (Severity Waived), or the expired
	// waiver that no longer does (Severity Deny or Warn).
	Waiver *Waiver `json:"waiver,omitempty"`
}

// WaiverExpired reports whether the finding's waiver has expired.
func (f *Finding) WaiverExpired() bool { return f.Waiver != nil && f.Severity != Waived }

// WaiverNoteKind says what is wrong with a waiver.
type WaiverNoteKind string

// Waiver note kinds.
const (
	// WaiverExpired: the waiver's expiry has passed; the findings it matched count again.
	WaiverExpired WaiverNoteKind = "expired"
	// WaiverUnmatched: the waiver is in force but matched no finding; remove it.
	WaiverUnmatched WaiverNoteKind = "unmatched"
)

// WaiverNote reports a waiver that expired or matched nothing. Both are warnings: an
// expired waiver's findings count as what they are (a deny stops apply), and an
// unmatched waiver is dead configuration.
type WaiverNote struct {
	Kind   WaiverNoteKind `json:"kind"`
	Waiver Waiver         `json:"waiver"`
	// Matched counts the findings the waiver matched.
	Matched int    `json:"matched"`
	Message string `json:"message"`
}

// RuleInfo describes one policy rule, from the policy's METADATA annotations.
type RuleInfo struct {
	// ID is the rule id, e.g. "energy.pue.deny".
	ID string `json:"id"`
	// Package is the id without the rule, e.g. "energy.pue"; waivers may name it.
	Package  string   `json:"package"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title,omitempty"`
	// Description is the policy's description (markdown), with its defaults.
	Description string `json:"description,omitempty"`
	// URL is the first related resource of the policy, if any.
	URL string `json:"url,omitempty"`
	// File and Line locate the rule's first definition, e.g. "builtin/energy/pue.rego".
	File string `json:"file"`
	Line int    `json:"line"`
}

// Report is the outcome of checking a plan.
type Report struct {
	// Findings are sorted by file, line, column, rule id, address and message; findings
	// without a range come last.
	Findings []Finding `json:"findings"`
	// WaiverNotes lists expired and unmatched waivers in the order they were given.
	WaiverNotes []WaiverNote `json:"waiver_notes,omitempty"`
	// Rules lists every rule that was evaluated, sorted by id.
	Rules []RuleInfo `json:"rules"`
	// CheckedAt is the time the check ran at (Options.Now).
	CheckedAt time.Time `json:"checked_at"`
}

// Counts tallies findings by severity.
type Counts struct {
	Deny, Warn, Waived int
	// Waivers counts waiver notes (expired or unmatched waivers).
	Waivers int
}

// Counts tallies the report's findings.
func (r *Report) Counts() Counts {
	c := Counts{Waivers: len(r.WaiverNotes)}
	for _, f := range r.Findings {
		switch f.Severity {
		case Deny:
			c.Deny++
		case Warn:
			c.Warn++
		case Waived:
			c.Waived++
		}
	}
	return c
}

// Denied reports whether any finding denies the plan; apply must not go on.
func (r *Report) Denied() bool {
	for _, f := range r.Findings {
		if f.Severity == Deny {
			return true
		}
	}
	return false
}

// Rule returns the metadata of a rule id, or nil.
func (r *Report) Rule(id string) *RuleInfo {
	i, ok := slices.BinarySearchFunc(r.Rules, id, func(ri RuleInfo, id string) int { return cmp.Compare(ri.ID, id) })
	if !ok {
		return nil
	}
	return &r.Rules[i]
}

// sortFindings orders findings deterministically.
func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		if (a.Range == nil) != (b.Range == nil) {
			if a.Range == nil {
				return 1 // ranged findings first
			}
			return -1
		}
		if a.Range != nil {
			if c := cmp.Or(cmp.Compare(a.Range.Filename, b.Range.Filename), cmp.Compare(a.Range.Start.Line, b.Range.Start.Line),
				cmp.Compare(a.Range.Start.Column, b.Range.Start.Column)); c != 0 {
				return c
			}
		}
		return cmp.Or(cmp.Compare(a.RuleID, b.RuleID), cmp.Compare(a.Address, b.Address),
			cmp.Compare(a.Attribute, b.Attribute), cmp.Compare(a.Message, b.Message), cmp.Compare(a.Severity, b.Severity))
	})
}
