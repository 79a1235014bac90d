package policies

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
)

// handPlan has a change of every shape the encoder knows: every action, indexes of
// count and for_each (and as decoding a plan file makes them), no attributes, a no-op
// whose after is its before, lists, flags, shared and distinct ranges, strings that
// need escaping, and attribute ranges by resource.
func handPlan() *plans.Plan {
	shared := &plans.Range{Filename: "main.fab.hcl", Start: plans.Pos{Line: 3, Column: 1, Byte: 40}, End: plans.Pos{Line: 3, Column: 20, Byte: 59}}
	attrs := json.RawMessage(`{"gpus":8,"rack":"r\"1\"","nested":{"list":[1,2.5,-3e2,true,null,"ü"]},"empty":{},"none":[]}`)
	return &plans.Plan{
		FormatVersion: plans.FormatVersion, FabricaVersion: "0.1.0", Mode: plans.ModeNormal, Lineage: "l", PriorSerial: 3,
		ResourceChanges: []*plans.ResourceChange{
			{Address: "facility.f", Kind: "facility", Name: "f", Provider: "sim", Action: plans.Create, Reason: "new",
				After: json.RawMessage(`{"tier":3}`), AfterUnknown: []string{"id"}, DeclRange: shared, ConfigHash: "abc"},
			{Address: "hardware.n[0]", Kind: "hardware", Name: "n", Index: 0, Provider: "sim", Action: plans.NoOp,
				Before: attrs, After: attrs, Derived: []string{"gpus"}, SensitiveAttributes: []string{"bmc_password"},
				DeclRange: shared, PriorID: "sim-1", ConfigHash: "h", Dependencies: []string{"facility.f"}},
			{Address: "hardware.n[1]", Kind: "hardware", Name: "n", Index: float64(1), Provider: "sim", Action: plans.Update,
				Reason: "drift", Before: attrs, After: json.RawMessage(`{"gpus":4}`), ChangedAttributes: []string{"gpus"},
				Derived: []string{"gpus"}, DeclRange: shared, PriorID: "sim-2", Dependencies: []string{"facility.f"}},
			{Address: `storage.s["a\\b"]`, Kind: "storage", Name: "s", Index: `a\b`, Provider: "sim", Action: plans.Replace,
				Before: json.RawMessage(`{"nodes":3}`), After: json.RawMessage("{\n  \"nodes\": 4\n}"), ReplacePaths: []string{"nodes"},
				DeclRange: &plans.Range{Filename: "s.fab.hcl"}, CreateBeforeDestroy: true, PreventDestroy: true},
			{Address: "fabric.old", Kind: "fabric", Name: "old", Provider: "sim", Action: plans.Delete, Reason: "removed from configuration",
				Before: json.RawMessage(`{"x":1}`), PriorID: "sim-9"},
			{Address: "dr_site.gone", Kind: "dr_site", Name: "gone", Provider: "sim", Action: plans.Read, Reason: "gone",
				Before: json.RawMessage(`{}`), RecordOnly: true, Index: json.Number("7")},
		},
		AttributeRanges: map[string]map[string]*plans.Range{
			"hardware.n": {"rack": shared, "nested.list": {Filename: "main.fab.hcl", Start: plans.Pos{Line: 4}}},
			"storage.s":  {"nodes": {Filename: "s.fab.hcl", Start: plans.Pos{Line: 2, Column: 3}}},
		},
		Aggregates:  []*plans.FacilityImpact{{Address: "facility.f"}},
		Outputs:     map[string]json.RawMessage{"o": json.RawMessage(`"v"`)},
		Variables:   map[string]json.RawMessage{"v": json.RawMessage(`1`)},
		Diagnostics: []plans.Diagnostic{{Severity: "warning", Summary: "s"}},
	}
}

// randomPlan makes n changes of random resources, actions, lists and attributes.
func randomPlan(seed uint64, n int) *plans.Plan {
	r := rand.New(rand.NewPCG(seed, seed))
	pick := func(vs ...string) string { return vs[r.IntN(len(vs))] }
	word := func() string {
		return pick("a", "rack", "ünï", `q"uote`, `back\slash`, "tab\t", "r1", "", "gpu-node", strings.Repeat("long", 40),
			"not\xffutf8", "\xfe\xff", "<&>\u2028")
	}
	var value func(depth int) string
	value = func(depth int) string {
		switch k := r.IntN(8); {
		case k == 0 && depth < 4:
			var parts []string
			for range r.IntN(4) {
				parts = append(parts, value(depth+1))
			}
			return "[" + strings.Join(parts, ",") + "]"
		case k == 1 && depth < 4:
			return obj(r, depth+1, value, word)
		case k == 2:
			return fmt.Sprint(r.IntN(100))
		case k == 3:
			return fmt.Sprint(r.Float64() * 1e3)
		case k == 4:
			return pick("true", "false", "null")
		default:
			b, _ := json.Marshal(word())
			return string(b)
		}
	}
	lists := [][]string{nil, {"id"}, {"gpus", "rack"}, {"facility.f"}, {word(), word()}}
	ranges := []*plans.Range{nil, {Filename: "a.fab.hcl", Start: plans.Pos{Line: 1, Column: 1}}, {Filename: `b"c.fab.hcl`},
		{Filename: "d\xff.fab.hcl", Start: plans.Pos{Line: 70000, Column: 600, Byte: 1 << 30}, End: plans.Pos{Line: 70001, Column: 1, Byte: 1<<30 + 9}}}
	actions := []plans.Action{plans.Create, plans.NoOp, plans.Update, plans.Replace, plans.Delete, plans.Read}
	p := &plans.Plan{FormatVersion: plans.FormatVersion, Mode: plans.ModeNormal, AttributeRanges: map[string]map[string]*plans.Range{}}
	var last json.RawMessage
	for i := range n {
		kind, name := pick("hardware", "fabric", "storage"), pick("n", "m", word())
		rc := &plans.ResourceChange{Address: fmt.Sprintf("%s.%s[%d]", kind, name, i), Kind: kind, Name: name,
			Provider: "sim", Action: actions[r.IntN(len(actions))], Reason: pick("", "new", "drift"),
			AfterUnknown: lists[r.IntN(len(lists))], Derived: lists[r.IntN(len(lists))], ReplacePaths: lists[r.IntN(len(lists))],
			ChangedAttributes: lists[r.IntN(len(lists))], SensitiveAttributes: lists[r.IntN(len(lists))],
			Dependencies: slices.Clone(lists[r.IntN(len(lists))]), DeclRange: ranges[r.IntN(len(ranges))],
			PriorID: pick("", "sim-1"), ConfigHash: pick("", "h1", "h2"),
			CreateBeforeDestroy: r.IntN(2) == 0, PreventDestroy: r.IntN(2) == 0, RecordOnly: r.IntN(2) == 0}
		switch r.IntN(4) {
		case 0:
			rc.Index = i
		case 1:
			rc.Index = word()
		case 2:
			rc.Index = float64(i)
		}
		attrs := func() json.RawMessage {
			switch r.IntN(4) {
			case 0:
				return nil
			case 1:
				if last != nil {
					return slices.Clone(last) // equal bytes, elsewhere in memory
				}
			}
			last = json.RawMessage(obj(r, 0, value, word))
			return last
		}
		rc.Before = attrs()
		if r.IntN(3) == 0 {
			rc.After = rc.Before
		} else {
			rc.After = attrs()
		}
		p.ResourceChanges = append(p.ResourceChanges, rc)
		if r.IntN(3) == 0 {
			p.AttributeRanges[kind+"."+name] = map[string]*plans.Range{word(): ranges[1]}
		}
	}
	return p
}

func obj(r *rand.Rand, depth int, value func(int) string, word func() string) string {
	var parts []string
	for range r.IntN(5) {
		k, _ := json.Marshal(word())
		parts = append(parts, string(k)+":"+value(depth+1))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// The input CheckPlan makes of a plan is the one Check decodes from the plan's JSON,
// member for member, and it finds the same attribute ranges.
func TestPlanInputOf_sameAsDecodedJSON(t *testing.T) {
	cases := map[string]*plans.Plan{"every shape": handPlan(), "empty": {FormatVersion: plans.FormatVersion}}
	for seed := range uint64(20) {
		cases[fmt.Sprintf("random %d", seed)] = randomPlan(seed, 50)
	}
	cases["random, on every core"] = randomPlan(99, 5000)
	synth, err := plans.Decode(synthPlan(3000))
	if err != nil {
		t.Fatal(err)
	}
	cases["synthetic SuperPOD"] = synth
	for name, p := range cases {
		var doc bytes.Buffer
		if err := plans.Encode(&doc, p); err != nil {
			t.Fatal(err)
		}
		want, err := decodePlanInput(doc.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := planInputOf(p, "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want.value.Compare(got.value) != 0 {
			t.Fatalf("%s: the inputs differ:\n%s", name, cmp.Diff(want.value.String(), got.value.String()))
		}
		rcs, _ := got.value.(ast.Object).Get(keyResourceChanges).Value.(*ast.Array)
		if got.kinds == nil || got.kinds.changes != rcs || len(got.kinds.kinds) != rcs.Len() {
			t.Fatalf("%s: the change kinds are not those of the input's resource_changes", name)
		}
		for i, k := range got.kinds.kinds {
			if member := rcs.Elem(i).Get(keyKind); member == nil || member.Value.Compare(ast.String(k)) != 0 {
				t.Fatalf("%s: change %d: kind %q, its kind member %v", name, i, k, member)
			}
		}
		wanted := map[string][]string{"not.declared": {"not.declared[0]"}}
		for res := range maps.Keys(p.AttributeRanges) {
			wanted[validUTF8(res)] = []string{res} // named as in the JSON
		}
		wantRanges, gotRanges := resourceRanges(want.table, wanted), got.resourceRanges(wanted)
		if len(wantRanges) != len(p.AttributeRanges) || len(gotRanges) != len(wantRanges) {
			t.Fatalf("%s: %d and %d resources' ranges found, want %d", name, len(wantRanges), len(gotRanges), len(p.AttributeRanges))
		}
		for res, w := range wantRanges {
			if g := gotRanges[res]; g == nil || w.Value.Compare(g.Value) != 0 {
				t.Fatalf("%s: ranges of %s: %v, want %v", name, res, g, w)
			}
		}
	}
}

// Attributes that are not JSON are a PlanError that names the change.
func TestCheckPlan_invalidAttributes(t *testing.T) {
	e, diags := Load(context.Background(), Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	p := handPlan()
	p.ResourceChanges[2].After = json.RawMessage(`{"gpus":}`)
	_, err := e.CheckPlan(context.Background(), p)
	var perr *PlanError
	if !errors.As(err, &perr) || !strings.Contains(err.Error(), "hardware.n[1]: after:") {
		t.Fatalf("error %v, want a PlanError about hardware.n[1]'s after", err)
	}
	p = handPlan()
	p.Outputs["o"] = json.RawMessage(`{"unterminated":`)
	if _, err = e.CheckPlan(context.Background(), p); !errors.As(err, &perr) || strings.Contains(err.Error(), "resource change") {
		t.Fatalf("an invalid output: %v, want a PlanError about the plan", err)
	}
}
