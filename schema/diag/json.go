package diag

import "github.com/hashicorp/hcl/v2"

// Range is a source range as fabrica's JSON documents write it: the plan JSON's
// decl_range and attribute_ranges, diagnostics in validate --json and in plans, and
// policy findings. Line and Column count from 1, Byte from 0.
type Range struct {
	Filename string `json:"filename"`
	Start    Pos    `json:"start"`
	End      Pos    `json:"end"`
}

// Pos is a position in a source file.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// JSONRange converts an hcl.Range.
func JSONRange(r hcl.Range) *Range {
	return &Range{Filename: r.Filename,
		Start: Pos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
		End:   Pos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte}}
}

// HCL converts the range back for diagnostics; nil for nil.
func (r *Range) HCL() *hcl.Range {
	if r == nil {
		return nil
	}
	return &hcl.Range{Filename: r.Filename,
		Start: hcl.Pos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
		End:   hcl.Pos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte}}
}
