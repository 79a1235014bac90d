package format

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around each change.
const diffContext = 3

// unifiedDiff returns a unified diff that turns a into b, with the given
// names on the "---" and "+++" lines, or "" when a and b are equal. Lines are
// compared with their line endings, so a last line without a newline differs
// from the same line with one; such a line is followed by the usual
// "\ No newline at end of file" marker.
func unifiedDiff(oldName, newName string, a, b []byte) string {
	if string(a) == string(b) {
		return ""
	}
	aLines, bLines := splitLines(string(a)), splitLines(string(b))
	ops := diffLines(aLines, bLines)

	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", oldName, newName)
	for _, h := range hunks(ops) {
		writeHunk(&sb, ops[h.start:h.end], aLines, bLines)
	}
	return sb.String()
}

// splitLines splits s after each "\n"; the last element lacks the newline
// when s does not end with one.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// opKind is the kind of one line in an edit script.
type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

// op is one line of an edit script: a line of a (opEqual, opDelete) at index
// a, and/or a line of b (opEqual, opInsert) at index b. a and b are always
// the positions in each side that the op sits at, so an insert's a is the
// index of the next line of a.
type op struct {
	kind opKind
	a, b int
}

// diffLines returns a minimal edit script turning a into b, one op per line,
// with deletions before insertions inside each change.
func diffLines(a, b []string) []op {
	// Intern lines so the comparison loop works on ints.
	ids := make(map[string]int, len(a)+len(b))
	intern := func(lines []string) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			id, ok := ids[l]
			if !ok {
				id = len(ids)
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	d := &myers{a: intern(a), b: intern(b)}
	d.aChanged = make([]bool, len(a))
	d.bChanged = make([]bool, len(b))
	n, m := len(a), len(b)
	d.vf = make([]int, n+m+3)
	d.vb = make([]int, n+m+3)
	d.compare(0, n, 0, m)

	ops := make([]op, 0, max(n, m))
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && d.aChanged[i]:
			ops = append(ops, op{opDelete, i, j})
			i++
		case j < m && d.bChanged[j]:
			ops = append(ops, op{opInsert, i, j})
			j++
		default:
			ops = append(ops, op{opEqual, i, j})
			i++
			j++
		}
	}
	return ops
}

// myers is the linear-space variant of Myers' O(ND) difference algorithm
// ("An O(ND) Difference Algorithm and Its Variations", 1986, section 4b). It
// marks the lines of a that are deleted and the lines of b that are
// inserted; the unmarked lines form a longest common subsequence.
type myers struct {
	a, b               []int
	aChanged, bChanged []bool
	vf, vb             []int // furthest-reaching x per diagonal, offset by the subproblem's size
}

// compare marks the changes between a[aLo:aHi] and b[bLo:bHi].
func (d *myers) compare(aLo, aHi, bLo, bHi int) {
	for aLo < aHi && bLo < bHi && d.a[aLo] == d.b[bLo] {
		aLo++
		bLo++
	}
	for aLo < aHi && bLo < bHi && d.a[aHi-1] == d.b[bHi-1] {
		aHi--
		bHi--
	}
	switch {
	case aLo == aHi:
		for j := bLo; j < bHi; j++ {
			d.bChanged[j] = true
		}
	case bLo == bHi:
		for i := aLo; i < aHi; i++ {
			d.aChanged[i] = true
		}
	default:
		x, y := d.split(aLo, aHi, bLo, bHi)
		if (x == aLo && y == bLo) || (x == aHi && y == bHi) {
			// Cannot happen for a correct split; stay valid rather than loop.
			for i := aLo; i < aHi; i++ {
				d.aChanged[i] = true
			}
			for j := bLo; j < bHi; j++ {
				d.bChanged[j] = true
			}
			return
		}
		d.compare(aLo, x, bLo, y)
		d.compare(x, aHi, y, bHi)
	}
}

// split finds a point (x, y) on a shortest edit path from (aLo, bLo) to
// (aHi, bHi) by running the forward and the reverse search at once until
// they overlap. Both ranges are non-empty and have no common prefix or
// suffix, so the edit distance is at least 2 and the point is strictly
// inside the box.
func (d *myers) split(aLo, aHi, bLo, bHi int) (int, int) {
	n, m := aHi-aLo, bHi-bLo
	delta := n - m
	odd := delta%2 != 0
	// Diagonal k = x - y, in coordinates local to the box, lies in [-m, n].
	// vf[k+off] is the furthest x reached forward on diagonal k; vb[k+off]
	// is the smallest x reached backward from (n, m) on diagonal k.
	off := m + 1
	vf, vb := d.vf, d.vb
	for k := -m - 1; k <= n+1; k++ {
		vf[k+off] = -1
		vb[k+off] = n + 1
	}
	vf[1+off] = 0
	vb[delta-1+off] = n
	maxD := (n + m + 1) / 2
	for e := 0; e <= maxD; e++ {
		// Forward step: diagonals reachable from (0, 0) with e edits.
		for k := -e; k <= e; k += 2 {
			if k < -m || k > n {
				continue
			}
			var x int
			if k == -e || (k != e && vf[k-1+off] < vf[k+1+off]) {
				x = vf[k+1+off] // down: insertion
			} else {
				x = vf[k-1+off] + 1 // right: deletion
			}
			y := x - k
			if x < 0 || y < 0 || x > n || y > m {
				continue
			}
			for x < n && y < m && d.a[aLo+x] == d.b[bLo+y] {
				x++
				y++
			}
			vf[k+off] = x
			if odd && k >= delta-(e-1) && k <= delta+(e-1) && x >= vb[k+off] {
				return aLo + x, bLo + y
			}
		}
		// Reverse step: diagonals reachable from (n, m) with e edits.
		for k := delta - e; k <= delta+e; k += 2 {
			if k < -m || k > n {
				continue
			}
			var x int
			if k == delta+e || (k != delta-e && vb[k-1+off] < vb[k+1+off]) {
				x = vb[k-1+off] // up: insertion undone
			} else {
				x = vb[k+1+off] - 1 // left: deletion undone
			}
			y := x - k
			if x < 0 || y < 0 || x > n || y > m {
				continue
			}
			for x > 0 && y > 0 && d.a[aLo+x-1] == d.b[bLo+y-1] {
				x--
				y--
			}
			vb[k+off] = x
			if !odd && k >= -e && k <= e && vf[k+off] >= x {
				// Split at the forward path's end on this diagonal.
				fx := vf[k+off]
				return aLo + fx, bLo + fx - k
			}
		}
	}
	return aLo, bLo // unreachable; compare falls back safely
}

// hunk is a range of ops shown together.
type hunk struct{ start, end int }

// hunks groups the changes in ops into hunks with diffContext lines of
// context, merging hunks whose context would touch or overlap.
func hunks(ops []op) []hunk {
	var out []hunk
	for i := 0; i < len(ops); {
		if ops[i].kind == opEqual {
			i++
			continue
		}
		// i is the first change of a new hunk; find where its changes end.
		start := max(0, i-diffContext)
		end := i
		for end < len(ops) {
			if ops[end].kind != opEqual {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == opEqual {
				run++
			}
			if run == len(ops) || run-end > 2*diffContext {
				break
			}
			end = run
		}
		out = append(out, hunk{start, min(len(ops), end+diffContext)})
		i = end
	}
	return out
}

// writeHunk writes one hunk, header first.
func writeHunk(sb *strings.Builder, ops []op, a, b []string) {
	aStart, bStart := ops[0].a, ops[0].b
	aCount, bCount := 0, 0
	for _, o := range ops {
		if o.kind != opInsert {
			aCount++
		}
		if o.kind != opDelete {
			bCount++
		}
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(aStart, aCount), hunkRange(bStart, bCount))
	for _, o := range ops {
		var line string
		if o.kind == opDelete {
			line = a[o.a]
		} else {
			line = b[o.b]
		}
		sb.WriteByte(byte(o.kind))
		sb.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			sb.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange formats a 0-based start and a line count as a hunk header range:
// 1-based, ",1" left out, and an empty range numbered by the line before it.
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}
