package views

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Graph prints resource dependencies (resource → the resources it depends on) in
// Graphviz dot or Mermaid syntax, sorted.
func Graph(w io.Writer, deps map[string][]string, format string) {
	names := make([]string, 0, len(deps))
	for n := range deps {
		names = append(names, n)
	}
	sort.Strings(names)
	if format == "mermaid" {
		fmt.Fprintln(w, "graph LR")
		for _, n := range names {
			fmt.Fprintf(w, "  %s[\"%s\"]\n", mermaidID(n), n)
		}
		for _, n := range names {
			for _, d := range deps[n] {
				fmt.Fprintf(w, "  %s --> %s\n", mermaidID(n), mermaidID(d))
			}
		}
		return
	}
	fmt.Fprintln(w, "digraph fabrica {\n  rankdir = \"RL\";\n  node [shape = box];")
	for _, n := range names {
		fmt.Fprintf(w, "  %q;\n", n)
	}
	for _, n := range names {
		for _, d := range deps[n] {
			fmt.Fprintf(w, "  %q -> %q;\n", n, d)
		}
	}
	fmt.Fprintln(w, "}")
}

func mermaidID(s string) string { return strings.NewReplacer(".", "_", "-", "_").Replace(s) }
