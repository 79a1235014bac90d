package format

import (
	"bytes"

	"github.com/fabrica-iac/fabrica/internal/hclsyntax"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Source formats one file's bytes. filename is used only in the ranges of
// the diagnostics. When src does not parse as HCL native syntax, Source
// returns src unchanged together with the syntax errors; the formatter is
// never run on broken input, where it could make changes that are hard to
// undo.
//
// Formatting is what hclwrite.Format does (indentation, aligned "=" and
// comments, spacing between tokens) plus two rewrites: CRLF line endings
// become LF, and trailing blank lines and spaces are replaced by exactly one
// newline (an empty file stays empty). Formatting is idempotent.
func Source(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	norm := bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	_, diags := hclsyntax.ParseConfig(norm, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return src, diags
	}
	out := hclwrite.Format(norm)
	out = bytes.TrimRight(out, " \t\n")
	if len(out) > 0 {
		out = append(out, '\n')
	}
	return out, diags
}
