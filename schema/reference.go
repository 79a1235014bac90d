package schema

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// WriteReference writes the Markdown reference of every resource kind and of the
// device_type block, generated from the specs so it never drifts from the code.
func WriteReference(w io.Writer) {
	fmt.Fprintln(w, "# Language reference (generated)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generated from `schema/kinds.go` by `make generate`; do not edit by hand.")
	for _, name := range KindNames() {
		k := kinds[name]
		fmt.Fprintf(w, "\n## `%s` — %s\n\n", name, k.Doc)
		writeAttrTable(w, &k.BlockSpec, "")
		fmt.Fprintf(w, "\nDerived (read-only): %s.\n", codeList(k.Derived))
	}
	fmt.Fprintf(w, "\n## `device_type` — a server model (overrides a built-in of the same name)\n\n")
	writeAttrTable(w, deviceTypeSpec, "")
}

func writeAttrTable(w io.Writer, b *BlockSpec, prefix string) {
	fmt.Fprintln(w, "| argument | type | required | default | notes |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	var nested []*Attr
	for _, a := range b.Attrs {
		if a.IsBlock() {
			fmt.Fprintf(w, "| `%s%s { }` | block | no | | see below |\n", prefix, a.Name)
			nested = append(nested, a)
			continue
		}
		req := "no"
		if a.Required {
			req = "**yes**"
		}
		fmt.Fprintf(w, "| `%s%s` | %s | %s | %s | %s |\n", prefix, a.Name, typeName(a), req, defaultText(a), notes(a))
	}
	for _, a := range nested {
		fmt.Fprintf(w, "\nBlock `%s`:\n\n", a.Name)
		writeAttrTable(w, a.Nested, a.Name+".")
	}
}

func typeName(a *Attr) string {
	switch {
	case a.Ref != "" && a.Type == cty.String:
		return "reference to " + a.Ref
	case a.Ref != "":
		return "list of " + a.Ref + " references"
	case a.Int:
		return "whole number"
	}
	return strings.TrimPrefix(describeType(a.Type), "a ")
}

func defaultText(a *Attr) string {
	if a.Default == cty.NilVal || a.Default.IsNull() {
		return ""
	}
	switch a.Default.Type() {
	case cty.String:
		return "`" + strconv.Quote(a.Default.AsString()) + "`"
	case cty.Number:
		return "`" + a.Default.AsBigFloat().Text('f', -1) + "`"
	case cty.Bool:
		return "`" + strconv.FormatBool(a.Default.True()) + "`"
	}
	return ""
}

func notes(a *Attr) string {
	var parts []string
	if u := a.Unit(); u != "" {
		parts = append(parts, "unit "+u)
	}
	if len(a.Enum) > 0 {
		parts = append(parts, "one of "+codeList(a.Enum))
	}
	if a.Word {
		parts = append(parts, "one word (no spaces)")
	}
	if a.Min != nil || a.Max != nil {
		parts = append(parts, describeBounds(a))
	}
	return strings.Join(parts, "; ")
}

func codeList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "`" + s + "`"
	}
	return strings.Join(q, ", ")
}
