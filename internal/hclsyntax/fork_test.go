// fabrica: this file is not part of upstream hclsyntax. It checks that the fork lexes
// exactly as the upstream package does, token for token and position for position.

package hclsyntax

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	upstream "github.com/hashicorp/hcl/v2/hclsyntax"
)

// tricky holds what the fork's shortcuts must not get wrong: combining marks after
// ASCII letters, CR LF and lone CR, multi-byte clusters, invalid UTF-8, a BOM.
var tricky = []string{
	"e\u0301 = 1\n",
	"a = \"e\u0301x\"\r\nb = 2\r\n",
	"a = \"\U0001F468\u200D\U0001F469\u200D\U0001F467\" # family\n",
	"x\u0308y = \"\u00e9\"\n",
	"a = 1\rb = 2\n",
	"\xef\xbb\xbfa = 1\n",
	"a = \"\x80\x80\"\n",
	"\n\u0301a = 1",
	"block \"l\u0301\" {\n\ta = <<EOT\n  h\u00e9\u0301\r\nEOT\n}\n",
	"/* \u0301 */ a = [1, 2, \"\u0915\u094d\u0937\"]\n",
	"a = \"${b}\u0301\"\n\t\n",
	"\r",
	"\r\n",
	"a",
	"a = \"tab\there $${x} %%{y} \\u00e9 \\q $ %\"\nb = <<EOT\n  \\n $${z}\nEOT\n",
}

func TestLexMatchesUpstream(t *testing.T) {
	inputs := map[string][]byte{}
	for i, s := range tricky {
		inputs[filepath.Join("tricky", string(rune('a'+i)))] = []byte(s)
	}
	addConfigurations(t, inputs)
	for name, src := range inputs {
		checkLexMatchesUpstream(t, name, src)
	}
}

// addConfigurations adds every example and test configuration of the repository to
// inputs, by path, and fails if there are fewer than five.
func addConfigurations(t *testing.T, inputs map[string][]byte) {
	t.Helper()
	n := 0
	for _, pattern := range []string{"../../examples/*/*.fab.hcl", "../../planner/testdata/*/*.fab.hcl"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			inputs[p] = src
			n++
		}
	}
	if n < 5 {
		t.Fatalf("only %d configurations: the examples were not found", n)
	}
}

func FuzzLexMatchesUpstream(f *testing.F) {
	for _, s := range tricky {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkLexMatchesUpstream(t, "fuzz", src)
	})
}

func checkLexMatchesUpstream(t *testing.T, name string, src []byte) {
	t.Helper()
	for _, mode := range []string{"config", "template"} {
		var got Tokens
		var want upstream.Tokens
		if mode == "config" {
			got, _ = LexConfig(src, name, hcl.InitialPos)
			want, _ = upstream.LexConfig(src, name, hcl.InitialPos)
		} else {
			got, _ = LexTemplate(src, name, hcl.InitialPos)
			want, _ = upstream.LexTemplate(src, name, hcl.InitialPos)
		}
		if len(got) != len(want) {
			t.Fatalf("%s (%s): %d tokens, upstream %d", name, mode, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if int(g.Type) != int(w.Type) || string(g.Bytes) != string(w.Bytes) || g.Range != w.Range {
				t.Fatalf("%s (%s): token %d is %s %q at %s, upstream %s %q at %s",
					name, mode, i, g.Type, g.Bytes, rangeString(g.Range), w.Type, w.Bytes, rangeString(w.Range))
			}
			if g.Type == TokenQuotedLit || g.Type == TokenStringLit {
				checkLiteralMatchesUpstream(t, name, g, w)
			}
		}
	}
}

// checkLiteralMatchesUpstream requires the fork's value of a string literal token, and
// its diagnostics, to be upstream's.
func checkLiteralMatchesUpstream(t *testing.T, name string, g Token, w upstream.Token) {
	t.Helper()
	got, gotDiags := ParseStringLiteralToken(g)
	want, wantDiags := upstream.ParseStringLiteralToken(w)
	if got != want || fmt.Sprint(gotDiags) != fmt.Sprint(wantDiags) {
		t.Fatalf("%s: literal %q is %q %v, upstream %q %v", name, g.Bytes, got, gotDiags, want, wantDiags)
	}
}

func rangeString(r hcl.Range) string {
	return fmt.Sprintf("%s (bytes %d-%d)", r, r.Start.Byte, r.End.Byte)
}

// TestForkIsUpstreamPlusPatch checks that the fork's sources are upstream's v2.25.0 with
// only the changes in fabrica.patch (and unicodeutil made local): any other edit, or a
// new upstream version in go.mod without a re-sync, fails here.
func TestForkIsUpstreamPlusPatch(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", "github.com/hashicorp/hcl/v2").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dir, version, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if version != "v2.25.0" {
		t.Fatalf("go.mod has hcl %s, the fork is of v2.25.0: re-sync it (see README.md)", version)
	}
	patched := map[string]bool{"token.go": true, "scan_tokens.rl": true, "parser.go": true, "parser_template.go": true, "public.go": true}
	// scan_tokens.go is ragel's output for our scan_tokens.rl (make generate; make
	// test checks it is up to date), in a faster table style than upstream's.
	generated := map[string]bool{"scan_tokens.go": true}
	// Files of the fork's own, not upstream's.
	own := map[string]bool{"quick.go": true, "quick_content.go": true, "quick_tuple.go": true, "quick_recycle.go": true}
	local := strings.NewReplacer(
		"\t\"github.com/hashicorp/hcl/v2/internal/unicodeutil\"\n", "",
		"unicodeutil.ScanGraphemeClusters", "scanGraphemeClusters",
		"unicodeutil.GraphemeCount", "graphemeCount")
	ours, err := filepath.Glob("*.[gr][ol]")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range ours {
		if strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, "grapheme") || patched[name] || generated[name] || own[name] {
			continue
		}
		mine, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.ReadFile(filepath.Join(dir, "hclsyntax", name))
		if err != nil {
			t.Errorf("%s is not in upstream hclsyntax: %v", name, err)
			continue
		}
		if string(mine) != local.Replace(string(theirs)) {
			t.Errorf("%s differs from upstream's beyond making unicodeutil local", name)
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("only %d files compared", checked)
	}
	patch, err := os.ReadFile("fabrica.patch")
	if err != nil {
		t.Fatal(err)
	}
	for name := range patched {
		if !strings.Contains(string(patch), "+++ b/hclsyntax/"+name+"\n") {
			t.Errorf("fabrica.patch has no change to %s", name)
		}
	}
	// The patched files must be upstream's with fabrica.patch applied, exactly.
	tmp := t.TempDir()
	if err := os.Mkdir(filepath.Join(tmp, "hclsyntax"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name := range patched {
		src, err := os.ReadFile(filepath.Join(dir, "hclsyntax", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, "hclsyntax", name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("patch", "-p1", "--quiet", "--batch", "--forward", "--fuzz=0", "--no-backup-if-mismatch", "-d", tmp, "-i", filepath.Join(must(os.Getwd()), "fabrica.patch"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("applying fabrica.patch to upstream (GNU patch is needed; scripts/install-deps.sh installs it): %v\n%s", err, out)
	}
	for name := range patched {
		want, _ := os.ReadFile(filepath.Join(tmp, "hclsyntax", name))
		mine, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if string(mine) != string(want) {
			t.Errorf("%s is not upstream's with fabrica.patch applied: update the patch (see README.md)", name)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
