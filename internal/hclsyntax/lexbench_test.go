// fabrica: this file is not part of upstream hclsyntax.

package hclsyntax

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	upstream "github.com/hashicorp/hcl/v2/hclsyntax"
)

// benchSource is a configuration like one file of fabrica-gen's 100,000-node output:
// 1,024 counted hardware blocks and a fabric listing them, about 230 KB.
func benchSource() []byte {
	var b strings.Builder
	for i := 1; i <= 1024; i++ {
		fmt.Fprintf(&b, "hardware \"r%06d\" {\n  count       = 4\n  facility    = facility.f001\n  device_type = \"dgx-h100\"\n  rack        = \"r%06d\"\n  role        = \"compute\"\n}\n\n", i, i)
	}
	b.WriteString("fabric \"f001_compute\" {\n  kind = \"compute\"\n  endpoints = concat(\n")
	for i := 1; i <= 1024; i++ {
		fmt.Fprintf(&b, "    hardware.r%06d,\n", i)
	}
	b.WriteString("  )\n}\n")
	return []byte(b.String())
}

// BenchmarkLex compares the fork's lexer with upstream's on the same source.
func BenchmarkLex(b *testing.B) {
	src := benchSource()
	b.Run("fork", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			releaseTokens(scanTokens(src, "bench.fab.hcl", hcl.InitialPos, scanNormal))
		}
	})
	b.Run("upstream", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			upstream.LexConfig(src, "bench.fab.hcl", hcl.InitialPos)
		}
	})
}

// BenchmarkParseConfig is the whole parse of that source, fork against upstream:
// the fork's quick parser (quick.go), the fork's lexer and parser (which a source
// that does not start at the initial position goes to), and upstream's.
func BenchmarkParseConfig(b *testing.B) {
	src := benchSource()
	b.Run("fork", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			ParseConfig(src, "bench.fab.hcl", hcl.InitialPos)
		}
	})
	b.Run("fork-tokens", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			ParseConfig(src, "bench.fab.hcl", hcl.Pos{Line: 2, Column: 1})
		}
	})
	b.Run("upstream", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			upstream.ParseConfig(src, "bench.fab.hcl", hcl.InitialPos)
		}
	})
}
