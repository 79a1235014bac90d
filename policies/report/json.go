package report

import (
	"encoding/json"
	"io"
	"time"

	"github.com/fabrica-iac/fabrica/policies"
)

// FormatVersion is the version of the JSON document JSON writes.
const FormatVersion = "1.0"

// Document is the JSON form of a report.
type Document struct {
	FormatVersion string                `json:"format_version"`
	CheckedAt     string                `json:"checked_at"`
	Denied        bool                  `json:"denied"`
	Summary       DocumentSummary       `json:"summary"`
	Findings      []policies.Finding    `json:"findings"`
	WaiverNotes   []policies.WaiverNote `json:"waiver_notes"`
	Rules         []policies.RuleInfo   `json:"rules"`
}

// DocumentSummary counts findings by severity, and waiver notes.
type DocumentSummary struct {
	Deny        int `json:"deny"`
	Warn        int `json:"warn"`
	Waived      int `json:"waived"`
	WaiverNotes int `json:"waiver_notes"`
}

// NewDocument builds the JSON document of a report; lists are never null.
func NewDocument(r *policies.Report) *Document {
	c := r.Counts()
	d := &Document{
		FormatVersion: FormatVersion,
		CheckedAt:     r.CheckedAt.UTC().Format(time.RFC3339),
		Denied:        r.Denied(),
		Summary:       DocumentSummary{Deny: c.Deny, Warn: c.Warn, Waived: c.Waived, WaiverNotes: c.Waivers},
		Findings:      r.Findings,
		WaiverNotes:   r.WaiverNotes,
		Rules:         r.Rules,
	}
	if d.Findings == nil {
		d.Findings = []policies.Finding{}
	}
	if d.WaiverNotes == nil {
		d.WaiverNotes = []policies.WaiverNote{}
	}
	if d.Rules == nil {
		d.Rules = []policies.RuleInfo{}
	}
	return d
}

// JSON writes the report as an indented, versioned JSON document (Document).
func JSON(w io.Writer, r *policies.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewDocument(r))
}
