package format

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestUnifiedDiffGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{
			name: "equal",
			a:    "x\ny\n",
			b:    "x\ny\n",
			want: "",
		},
		{
			name: "change in the middle",
			a:    "1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			b:    "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			want: "--- a/f\n+++ b/f\n" +
				"@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
		},
		{
			name: "insert at start",
			a:    "1\n2\n3\n4\n5\n",
			b:    "0\n1\n2\n3\n4\n5\n",
			want: "--- a/f\n+++ b/f\n" +
				"@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n",
		},
		{
			name: "delete at end",
			a:    "1\n2\n3\n4\n5\n",
			b:    "1\n2\n3\n4\n",
			want: "--- a/f\n+++ b/f\n" +
				"@@ -2,4 +2,3 @@\n 2\n 3\n 4\n-5\n",
		},
		{
			name: "single line ranges",
			a:    "a\n",
			b:    "b\n",
			want: "--- a/f\n+++ b/f\n" +
				"@@ -1 +1 @@\n-a\n+b\n",
		},
		{
			name: "from empty",
			a:    "",
			b:    "a\nb\n",
			want: "--- a/f\n+++ b/f\n" +
				"@@ -0,0 +1,2 @@\n+a\n+b\n",
		},
		{
			name: "to empty",
			a:    "a\n",
			b:    "",
			want: "--- a/f\n+++ b/f\n" +
				"@@ -1 +0,0 @@\n-a\n",
		},
		{
			name: "missing newline at end",
			a:    "a\nb",
			b:    "a\nb\n",
			want: "--- a/f\n+++ b/f\n" +
				"@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
		},
		{
			name: "two hunks",
			a:    "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			b:    "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n",
			want: "--- a/f\n+++ b/f\n" +
				"@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n" +
				"@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n",
		},
		{
			name: "hunks six lines apart merge",
			a:    "1\n2\n3\n4\n5\n6\n7\n8\n",
			b:    "one\n2\n3\n4\n5\n6\n7\neight\n",
			want: "--- a/f\n+++ b/f\n" +
				"@@ -1,8 +1,8 @@\n-1\n+one\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+eight\n",
		},
		{
			name: "reindented block",
			a:    "a {\nb = 1\n  cc = 2\n}\n",
			b:    "a {\n  b  = 1\n  cc = 2\n}\n",
			want: "--- a/f\n+++ b/f\n" +
				"@@ -1,4 +1,4 @@\n a {\n-b = 1\n+  b  = 1\n   cc = 2\n }\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := unifiedDiff("a/f", "b/f", []byte(tt.a), []byte(tt.b))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("unifiedDiff mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiffLinesMinimalAndValid checks on random inputs that the edit script
// turns a into b, that it is as short as a longest common subsequence allows,
// and that the unified diff applies back to a to give b.
func TestDiffLinesMinimalAndValid(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 3000 {
		a := randomLines(rng, rng.IntN(14), 1+rng.IntN(4))
		b := randomLines(rng, rng.IntN(14), 1+rng.IntN(4))
		if rng.IntN(3) == 0 { // related inputs: b is a with a few edits
			b = mutate(rng, a)
		}
		ops := diffLines(a, b)
		var gotA, gotB []string
		edits := 0
		for _, o := range ops {
			switch o.kind {
			case opEqual:
				if a[o.a] != b[o.b] {
					t.Fatalf("iter %d: equal op pairs %q with %q", iter, a[o.a], b[o.b])
				}
				gotA, gotB = append(gotA, a[o.a]), append(gotB, b[o.b])
			case opDelete:
				gotA = append(gotA, a[o.a])
				edits++
			case opInsert:
				gotB = append(gotB, b[o.b])
				edits++
			}
		}
		if !cmp.Equal(a, gotA, cmpopts.EquateEmpty()) || !cmp.Equal(b, gotB, cmpopts.EquateEmpty()) {
			t.Fatalf("iter %d: script does not cover a=%q b=%q: %v", iter, a, b, ops)
		}
		if want := len(a) + len(b) - 2*lcsLen(a, b); edits != want {
			t.Fatalf("iter %d: a=%q b=%q: %d edits, want %d", iter, a, b, edits, want)
		}
		aText, bText := strings.Join(a, ""), strings.Join(b, "")
		patched, err := applyUnified(aText, unifiedDiff("a/f", "b/f", []byte(aText), []byte(bText)))
		if err != nil {
			t.Fatalf("iter %d: a=%q b=%q: %v", iter, a, b, err)
		}
		if patched != bText {
			t.Fatalf("iter %d: patch gives %q, want %q", iter, patched, bText)
		}
	}
}

func TestDiffLinesLargeInputIsFast(t *testing.T) {
	t.Parallel()
	// Every line differs: the worst case for an O(ND) algorithm.
	var a, b strings.Builder
	for i := range 4000 {
		fmt.Fprintf(&a, "attr_%d = %d\n", i, i)
		fmt.Fprintf(&b, "  attr_%d = %d\n", i, i)
	}
	start := time.Now()
	d := unifiedDiff("a/f", "b/f", []byte(a.String()), []byte(b.String()))
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("diff of 4000 changed lines took %v", elapsed)
	}
	if got := strings.Count(d, "\n-"); got != 4000 {
		t.Errorf("diff has %d deleted lines, want 4000", got)
	}
}

func randomLines(rng *rand.Rand, n, alphabet int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = string(rune('a'+rng.IntN(alphabet))) + "\n"
	}
	if n > 0 && rng.IntN(4) == 0 {
		lines[n-1] = strings.TrimSuffix(lines[n-1], "\n")
	}
	return lines
}

func mutate(rng *rand.Rand, a []string) []string {
	b := append([]string(nil), a...)
	for range rng.IntN(4) {
		switch i := rng.IntN(len(b) + 1); {
		case rng.IntN(2) == 0 && i < len(b):
			b = append(b[:i], b[i+1:]...)
		default:
			b = append(b[:i], append([]string{"new\n"}, b[i:]...)...)
		}
	}
	// Keep only the last line without a newline.
	for i := 0; i+1 < len(b); i++ {
		if !strings.HasSuffix(b[i], "\n") {
			b[i] += "\n"
		}
	}
	return b
}

func lcsLen(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// applyUnified applies a unified diff produced by unifiedDiff to a, checking
// the hunk headers' positions and counts as it goes.
func applyUnified(a, diff string) (string, error) {
	if diff == "" {
		return a, nil
	}
	src := splitLines(a)
	lines := splitLines(diff)
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "--- ") || !strings.HasPrefix(lines[1], "+++ ") {
		return "", fmt.Errorf("bad file header in %q", diff)
	}
	var out []string
	pos := 0 // next line of src to copy
	for i := 2; i < len(lines); {
		var aStart, aCount, bStart, bCount int
		h := strings.TrimSuffix(lines[i], "\n")
		fields := strings.Fields(h)
		if len(fields) != 4 || fields[0] != "@@" || fields[3] != "@@" ||
			!strings.HasPrefix(fields[1], "-") || !strings.HasPrefix(fields[2], "+") {
			return "", fmt.Errorf("bad hunk header %q", h)
		}
		aStart, aCount = parseRange(fields[1][1:])
		bStart, bCount = parseRange(fields[2][1:])
		i++
		first := aStart - 1 // 0-based index of the hunk's first line of a
		if aCount == 0 {
			first = aStart
		}
		if first < pos {
			return "", fmt.Errorf("hunk %q overlaps the previous one", h)
		}
		out = append(out, src[pos:first]...)
		if bc := bStart - 1; bCount > 0 && bc != len(out) {
			return "", fmt.Errorf("hunk %q: new start %d, but %d lines precede it", h, bStart, len(out))
		}
		pos = first
		seenA, seenB := 0, 0
		for i < len(lines) && !strings.HasPrefix(lines[i], "@@") {
			l := lines[i]
			i++
			body := l[1:]
			if i < len(lines) && lines[i] == "\\ No newline at end of file\n" {
				body = strings.TrimSuffix(body, "\n")
				i++
			}
			switch l[0] {
			case ' ', '-':
				if pos >= len(src) || src[pos] != body {
					return "", fmt.Errorf("hunk %q: line %d of a is not %q", h, pos+1, body)
				}
				pos++
				seenA++
				if l[0] == ' ' {
					out = append(out, body)
					seenB++
				}
			case '+':
				out = append(out, body)
				seenB++
			default:
				return "", fmt.Errorf("bad hunk line %q", l)
			}
		}
		if seenA != aCount || seenB != bCount {
			return "", fmt.Errorf("hunk %q has %d/%d lines", h, seenA, seenB)
		}
	}
	out = append(out, src[pos:]...)
	return strings.Join(out, ""), nil
}

func parseRange(s string) (start, count int) {
	startStr, countStr, ok := strings.Cut(s, ",")
	start, _ = strconv.Atoi(startStr)
	count = 1
	if ok {
		count, _ = strconv.Atoi(countStr)
	}
	return start, count
}
