package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/schema"
)

// groupMin is the number of like changes of one resource above which human output
// shows them as one group, so a 100,000-node plan stays reviewable.
const groupMin = 4

// PlanText renders a plan for a terminal: each change with its symbol and changed
// attributes only, the count line, and the physical impact per facility.
func PlanText(w io.Writer, p *plans.Plan, color bool) {
	entries := groupChanges(p.ResourceChanges)
	if len(entries) == 0 {
		fmt.Fprintln(w, "No changes. The infrastructure matches the configuration.")
	} else {
		fmt.Fprintln(w, "fabrica will perform these actions:")
		fmt.Fprintln(w)
		for _, e := range entries {
			writeEntry(w, e, color)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, CountLine(p))
	if len(p.Aggregates) > 0 {
		fmt.Fprintln(w)
		ImpactText(w, p.Aggregates)
	}
}

// CountLine is "Plan: 12 to add, 1 to change, 0 to replace, 2 to destroy."
func CountLine(p *plans.Plan) string {
	c := p.Counts()
	line := fmt.Sprintf("Plan: %d to add, %d to change, %d to replace, %d to destroy.", c.Add, c.Change, c.Replace, c.Destroy)
	if c.Read > 0 {
		line += fmt.Sprintf(" %d changed outside fabrica.", c.Read)
	}
	return line
}

// entry is one change, or a group of like changes of one resource.
type entry struct {
	first *plans.ResourceChange
	last  *plans.ResourceChange
	n     int
	attrs []string // the attribute names the group (its first change) shows
	from  int      // index of first in the change list
	to    int      // index of last
}

// groupChanges folds runs of changes to one resource with the same action and reason
// into one entry; runs shorter than groupMin are written out one by one. One pass, and
// attribute names are read only for what is shown.
func groupChanges(cs []*plans.ResourceChange) []entry {
	var runs []entry
	for i, rc := range cs {
		if rc.Action == plans.NoOp {
			continue
		}
		if k := len(runs) - 1; k >= 0 {
			e := &runs[k]
			if e.first.Action == rc.Action && e.first.Reason == rc.Reason && rc.Address != resourceOf(rc.Address) &&
				resourceOf(e.first.Address) == resourceOf(rc.Address) {
				e.last, e.to, e.n = rc, i, e.n+1
				continue
			}
		}
		runs = append(runs, entry{first: rc, last: rc, n: 1, from: i, to: i})
	}
	var out []entry
	for _, e := range runs {
		if e.n >= groupMin && e.first.Action != plans.Update && e.first.Action != plans.Replace {
			e.attrs = shownAttributes(e.first)
			out = append(out, e)
			continue
		}
		for i := e.from; i <= e.to; i++ {
			if rc := cs[i]; rc.Action != plans.NoOp {
				out = append(out, entry{first: rc, last: rc, n: 1, attrs: shownAttributes(rc), from: i, to: i})
			}
		}
	}
	return out
}

func resourceOf(addr string) string {
	if i := strings.IndexByte(addr, '['); i >= 0 {
		return addr[:i]
	}
	return addr
}

// shownAttributes are the attributes human output lists: the changed ones for update and
// replace, the arguments (not derived figures) for create.
func shownAttributes(rc *plans.ResourceChange) []string {
	switch rc.Action {
	case plans.Update, plans.Replace, plans.Read:
		return rc.ChangedAttributes
	case plans.Create:
		var names []string
		for _, k := range plans.MemberNames(rc.After) {
			if !slices.Contains(rc.Derived, k) {
				names = append(names, k)
			}
		}
		names = append(names, rc.AfterUnknown...)
		sort.Strings(names)
		return slices.Compact(names)
	}
	return nil
}

func writeEntry(w io.Writer, e entry, color bool) {
	rc := e.first
	sym := rc.Action.Symbol()
	head := rc.Address
	if e.n > 1 {
		head = fmt.Sprintf("%s … %s (%d instances)", rc.Address, e.last.Address, e.n)
	}
	note := reasonNote(rc)
	if color {
		sym = colorFor(rc.Action) + sym + ansiReset
	}
	fmt.Fprintf(w, "  %s %s%s\n", sym, head, note)
	if e.n > 1 {
		if len(e.attrs) > 0 {
			fmt.Fprintf(w, "      %s\n", strings.Join(e.attrs, ", "))
		}
		return
	}
	before, after := plans.Members(rc.Before), plans.Members(rc.After)
	if rc.Kind == "training_job" && rc.Action != plans.Delete {
		writeLaunch(w, after)
	}
	for _, name := range e.attrs {
		if name == "launch" && rc.Kind == "training_job" {
			continue
		}
		switch {
		case slices.Contains(rc.AfterUnknown, name):
			fmt.Fprintf(w, "      %s = (known after apply)\n", name)
		case rc.Action == plans.Create:
			fmt.Fprintf(w, "      %s = %s\n", name, shortValue(after[name]))
		default:
			fmt.Fprintf(w, "      %s: %s → %s\n", name, shortValue(before[name]), shortValue(after[name]))
		}
	}
}

// genericReasons are the planner's own reasons; anything else came from a provider and
// says more than the attribute names.
var genericReasons = map[string]bool{"": true, "new": true, "config changed": true, "drift": true,
	"gone": true, "removed from configuration": true, "destroy": true, "replace requested": true, "tainted": true}

func reasonNote(rc *plans.ResourceChange) string {
	switch {
	case !genericReasons[rc.Reason]:
		return "  (" + rc.Reason + ")"
	case rc.Action == plans.Replace && len(rc.ReplacePaths) > 0:
		return fmt.Sprintf("  (%s forces replacement)", strings.Join(rc.ReplacePaths, ", "))
	case rc.Action == plans.Replace:
		return "  (" + rc.Reason + ")"
	case rc.Reason == "drift" || rc.Reason == "gone" || rc.Reason == "removed from configuration":
		return "  (" + rc.Reason + ")"
	}
	return ""
}

func colorFor(a plans.Action) string {
	switch a {
	case plans.Create:
		return ansiGreen
	case plans.Delete, plans.Replace:
		return ansiRed
	}
	return ansiYellow
}

// shortValue renders a JSON value compactly, cut at 80 characters.
func shortValue(v json.RawMessage) string {
	if v == nil {
		return "(none)"
	}
	b := []byte(v)
	if bytes.ContainsAny(b, " \t\r\n") { // planned values are compact already
		var buf bytes.Buffer
		if json.Compact(&buf, v) != nil {
			return string(v)
		}
		b = buf.Bytes()
	}
	// More than 80 characters are cut to 77 and "…", reading no further.
	cut := 0
	for end, n := 0, 0; end < len(b); n++ {
		switch n {
		case 77:
			cut = end
		case 80:
			return string(b[:cut]) + "…"
		}
		_, size := utf8.DecodeRune(b[end:])
		end += size
	}
	return string(b)
}

// ImpactText prints each facility's figures before → after.
func ImpactText(w io.Writer, impacts []*plans.FacilityImpact) {
	fmt.Fprintln(w, "Physical impact:")
	for _, fi := range impacts {
		fmt.Fprintf(w, "\n  %s\n", fi.Address)
		for _, row := range impactRows(fi) {
			fmt.Fprintf(w, "    %-20s %12s → %-12s%s\n", row.label, row.before, row.after, row.delta)
		}
	}
}

type impactRow struct{ label, before, after, delta string }

func impactRows(fi *plans.FacilityImpact) []impactRow {
	b, a := fi.Before, fi.After
	if b == nil {
		b = &schema.FacilitySummary{}
	}
	if a == nil {
		a = &schema.FacilitySummary{}
	}
	row := func(label string, x, y float64) impactRow {
		r := impactRow{label: label, before: num(x), after: num(y)}
		if d := y - x; d > 0.005 || d < -0.005 {
			sign := "+"
			if d < 0 {
				sign = ""
			}
			r.delta = fmt.Sprintf(" (%s%s)", sign, num(d))
		}
		return r
	}
	return []impactRow{
		row("IT load kW", b.ITLoadKW, a.ITLoadKW),
		row("Facility load kW", b.FacilityKW, a.FacilityKW),
		row("Power headroom kW", b.HeadroomKW, a.HeadroomKW),
		row("Energy MWh/yr", b.AnnualMWh, a.AnnualMWh),
		row("CO2 t/yr", b.AnnualCO2T, a.AnnualCO2T),
		row("GPUs", float64(b.GPUs), float64(a.GPUs)),
		row("Racks", float64(b.Racks), float64(a.Racks)),
		row("Switches", float64(b.Switches), float64(a.Switches)),
		row("Usable storage TB", b.UsableTB, a.UsableTB),
	}
}

// PlanMarkdown renders a plan for a pull-request comment: the count line, the physical
// impact as a table, and the per-resource detail folded.
func PlanMarkdown(w io.Writer, p *plans.Plan) {
	fmt.Fprintf(w, "### fabrica plan\n\n**%s**\n\n", CountLine(p))
	if len(p.Aggregates) > 0 {
		fmt.Fprintln(w, "| facility | figure | before | after | change |")
		fmt.Fprintln(w, "|---|---|---:|---:|---:|")
		for _, fi := range p.Aggregates {
			for _, r := range impactRows(fi) {
				fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s |\n", fi.Address, r.label, r.before, r.after, strings.Trim(r.delta, " ()"))
			}
		}
		fmt.Fprintln(w)
	}
	entries := groupChanges(p.ResourceChanges)
	if len(entries) == 0 {
		fmt.Fprintln(w, "No changes. The infrastructure matches the configuration.")
		return
	}
	fmt.Fprintf(w, "<details><summary>Resource changes (%d)</summary>\n\n```diff\n", countChanged(p))
	for _, e := range entries {
		var buf bytes.Buffer
		writeEntry(&buf, e, false)
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		// The diff marker replaces the action symbol, so GitHub colours the line.
		lines[0] = strings.TrimPrefix(lines[0], "  "+e.first.Action.Symbol()+" ")
		if e.first.Action == plans.Replace {
			lines[0] += "  (replace)"
		}
		for _, line := range lines {
			fmt.Fprintln(w, diffPrefix(e.first.Action)+line)
		}
	}
	fmt.Fprintln(w, "```\n\n</details>")
}

func countChanged(p *plans.Plan) int {
	n := 0
	for _, rc := range p.ResourceChanges {
		if rc.Action != plans.NoOp {
			n++
		}
	}
	return n
}

// diffPrefix makes GitHub colour each line: + green, - red, ! orange.
func diffPrefix(a plans.Action) string {
	switch a {
	case plans.Create:
		return "+ "
	case plans.Delete:
		return "- "
	}
	return "! "
}

// PlanJSON writes the plan document, one resource change per line.
func PlanJSON(w io.Writer, p *plans.Plan) error { return plans.Encode(w, p) }

// writeLaunch shows what a training job will run: the layout, world size, rendezvous and
// memory estimate a reviewer checks before the job starts.
func writeLaunch(w io.Writer, after map[string]json.RawMessage) {
	var l struct {
		Layout      string   `json:"layout"`
		WorldSize   int      `json:"world_size"`
		Rendezvous  string   `json:"rendezvous"`
		MaxRestarts int      `json:"max_restarts"`
		Command     []string `json:"command"`
		GPUsPerNode int      `json:"gpus_per_node"`
	}
	if json.Unmarshal(after["launch"], &l) != nil || l.WorldSize == 0 {
		return
	}
	line := fmt.Sprintf("      launch: %s, world size %d", l.Layout, l.WorldSize)
	if l.GPUsPerNode > 0 {
		line += fmt.Sprintf(", %d GPUs per node", l.GPUsPerNode)
	}
	if l.Rendezvous != "" {
		line += ", rendezvous " + l.Rendezvous
	}
	line += fmt.Sprintf(", max restarts %d", l.MaxRestarts)
	fmt.Fprintln(w, line)
	var mem float64
	if json.Unmarshal(after["memory_per_gpu_gb"], &mem) == nil && mem > 0 {
		fmt.Fprintf(w, "      memory per GPU: about %s GB (estimate)\n", num(mem))
	}
}
