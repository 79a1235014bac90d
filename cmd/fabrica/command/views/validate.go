package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
)

// FormatVersion is the version of every JSON document fabrica prints.
const FormatVersion = "1.0"

// ValidateSummary prints "Success" and, per facility, the derived figures.
func ValidateSummary(w io.Writer, ev *planner.Evaluated, color bool) {
	msg := "Success! The configuration is valid."
	if color {
		msg = ansiBold + ansiGreen + msg + ansiReset
	}
	fmt.Fprintln(w, msg)
	counts := map[string]int{}
	for _, inst := range ev.Instances {
		counts[inst.Kind()]++
	}
	var parts []string
	for _, k := range schema.KindNames() {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	fmt.Fprintf(w, "\n%d resource instances: %s.\n", len(ev.Instances), strings.Join(parts, ", "))
	for _, f := range ev.Facilities {
		fmt.Fprintf(w, "\n%s\n", f.Address)
		row := func(label, format string, args ...any) {
			fmt.Fprintf(w, "  %-18s %s\n", label, fmt.Sprintf(format, args...))
		}
		row("GPUs", "%d on %s", f.GPUs, plural(f.Nodes, "node", "nodes"))
		row("Racks", "%d (heaviest %s kW)", f.Racks, num(f.MaxRackKW))
		row("Cooling", "%s", coolingText(f))
		row("IT load", "%s kW of %s kW (headroom %s kW)", num(f.ITLoadKW), num(f.ITPowerKW), num(f.HeadroomKW))
		row("Facility load", "%s kW at PUE %s", num(f.FacilityKW), num(f.PUE))
		row("Energy", "%s MWh/yr, %s tCO2/yr", num(f.AnnualMWh), num(f.AnnualCO2T))
		row("Switches", "%d (%d leaf, %d spine, %d core)", f.Switches, f.LeafSwitches, f.SpineSwitches, f.CoreSwitches)
		row("Usable storage", "%s TB of %s TB raw", num(f.UsableTB), num(f.RawTB))
	}
	var lines []string
	for _, inst := range ev.Instances {
		if line := instanceLine(inst); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(lines, "\n"))
	}
}

// instanceLine is the one-line digest of the resources whose derived figures a reviewer
// checks one by one: fabrics, training jobs and DR pairings.
func instanceLine(inst *schema.Instance) string {
	d := inst.DerivedNum
	switch inst.Kind() {
	case schema.KindFabric:
		return fmt.Sprintf("%s: %s endpoint ports, %s leaf / %s spine / %s core switches, %s links, %s transceivers",
			inst.Addr, num(d("endpoint_ports")), num(d("leaf_switches")), num(d("spine_switches")), num(d("core_switches")),
			num(d("node_links")+d("switch_links")), num(d("transceivers")))
	case schema.KindTrainingJob:
		line := fmt.Sprintf("%s: world size %s", inst.Addr, num(d("world_size")))
		if m := d("memory_per_gpu_gb"); m > 0 {
			line += fmt.Sprintf(", about %s GB per GPU", num(m))
		}
		return line
	case schema.KindDRSite:
		line := fmt.Sprintf("%s: %s → %s", inst.Addr, inst.Str("primary"), inst.Str("secondary"))
		if _, ok := inst.Derived["distance_km"]; ok {
			line += fmt.Sprintf(", %s km apart", num(d("distance_km")))
		}
		if _, ok := inst.Derived["effective_rpo_minutes"]; ok {
			line += fmt.Sprintf(", effective RPO %s min (target %s), restore %s h",
				num(d("effective_rpo_minutes")), num(inst.Num("rpo_minutes")), num(d("restore_hours")))
		}
		return line
	}
	return ""
}

// num formats a figure with at most two decimals and no trailing zeros.
func num(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Range and Pos are source ranges in JSON output (see diag.Range).
type (
	Range = diag.Range
	Pos   = diag.Pos
)

// DiagnosticJSON is a diagnostic in JSON documents.
type DiagnosticJSON struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	Address  string `json:"address,omitempty"`
	Range    *Range `json:"range,omitempty"`
}

// DiagnosticsJSON converts diagnostics for JSON output.
func DiagnosticsJSON(diags diag.Diagnostics) []DiagnosticJSON {
	out := make([]DiagnosticJSON, 0, len(diags))
	for _, d := range diags {
		j := DiagnosticJSON{Severity: d.Severity.String(), Summary: d.Summary, Detail: d.Detail, Address: d.Address}
		if s := d.Subject; s != nil {
			j.Range = diag.JSONRange(*s)
		}
		out = append(out, j)
	}
	return out
}

type validateDoc struct {
	FormatVersion string                    `json:"format_version"`
	Valid         bool                      `json:"valid"`
	ErrorCount    int                       `json:"error_count"`
	WarningCount  int                       `json:"warning_count"`
	Diagnostics   []DiagnosticJSON          `json:"diagnostics"`
	Facilities    []*schema.FacilitySummary `json:"facilities"`
}

// ValidateJSON prints the validate result as one JSON document.
func ValidateJSON(w io.Writer, ev *planner.Evaluated, diags diag.Diagnostics) {
	doc := validateDoc{FormatVersion: FormatVersion, Valid: !diags.HasErrors(), Diagnostics: DiagnosticsJSON(diags),
		Facilities: []*schema.FacilitySummary{}}
	errs := len(diags.Errors())
	doc.ErrorCount, doc.WarningCount = errs, len(diags)-errs
	if ev != nil && doc.Valid {
		doc.Facilities = ev.Facilities
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(doc)
}

func coolingText(f *schema.FacilitySummary) string {
	text := fmt.Sprintf("%s racks, up to %s kW each", f.RackCooling, num(f.CoolingLimitKW))
	switch {
	case f.HeaviestRackCFM > 0:
		text += fmt.Sprintf("; heaviest needs %s CFM of air at ΔT 20 °F", num(f.HeaviestRackCFM))
	case f.HeaviestRackLPM > 0:
		text += fmt.Sprintf("; heaviest needs %s L/min of water at ΔT 10 K", num(f.HeaviestRackLPM))
	}
	return text
}
