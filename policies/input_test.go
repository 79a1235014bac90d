package policies

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestDecodeInput_sameAsOPA(t *testing.T) {
	docs := map[string][]byte{
		"synth":             synthPlan(20),
		"synth, format 1.0": synthPlanFormat(20, "1.0"),
		"escapes":           []byte(`{"a": "x\"y\\u00e9\n", "b": [1, -2.5e+3, 0, 1E2, true, false, null, {}, []], "c": {"d": {"e": "é"}}, "k\u0041": "\ud83d\ude00"}`),
		"scalar":            []byte(` 12 `),
		"deep escapes": []byte(`{"resource_changes": [{"after": {"s": "a\\", "t": "q\"uo}te\\\"", "u": ["\\", "]"]}},
			{"after": {"s": "a\\", "t": "q\"uo}te\\\"", "u": ["\\", "]"]}}, {"after": {"s": "b"}}]}`),
	}
	// Above parallelArrayBytes, resource_changes is decoded on every core.
	if big := synthPlan(12000); len(big) > parallelArrayBytes {
		docs["large, decoded in parallel"] = big
		docs["large, format 1.0"] = synthPlanFormat(12000, "1.0")
	} else {
		t.Fatalf("synthPlan(12000) is %d bytes, under parallelArrayBytes", len(big))
	}
	checkSameAsOPA(t, docs)
}

// checkSameAsOPA decodes each document with decodeInput and with OPA's own decoder and
// requires the same value; and with decodePlanInput, which must give OPA's value without
// the changes' attribute_ranges, and those as JSON.
func checkSameAsOPA(t *testing.T, docs map[string][]byte) {
	t.Helper()
	for name, doc := range docs {
		want, err := ast.ValueFromReader(bytes.NewReader(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := decodeInput(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want.Compare(got) != 0 {
			t.Errorf("%s: decodeInput differs from ast.ValueFromReader", name)
		}
		plan, err := decodePlanInput(doc)
		if err != nil {
			t.Fatalf("%s: decodePlanInput: %v", name, err)
		}
		wantPlan, wantRanges := withoutAttributeRanges(t, want)
		var wantTable *ast.Term
		if obj, ok := want.(ast.Object); ok {
			wantTable = obj.Get(ast.StringTerm("attribute_ranges"))
		}
		if wantPlan.Compare(plan.value) != 0 {
			t.Errorf("%s: decodePlanInput differs from ast.ValueFromReader without attribute_ranges", name)
		}
		switch {
		case wantTable == nil && plan.table != nil:
			t.Errorf("%s: an attribute_ranges table kept where the document has none", name)
		case wantTable != nil:
			v, err := ast.ValueFromReader(bytes.NewReader(plan.table))
			if err != nil || v.Compare(wantTable.Value) != 0 {
				t.Errorf("%s: the attribute_ranges table kept is not the document's", name)
			}
		}
		if len(plan.ranges) != len(wantRanges) {
			t.Fatalf("%s: %d attribute_ranges kept, want one per change (%d)", name, len(plan.ranges), len(wantRanges))
		}
		for i, raw := range plan.ranges {
			switch {
			case raw == nil && wantRanges[i] != nil:
				t.Errorf("%s: change %d: attribute_ranges not kept", name, i)
			case raw != nil && wantRanges[i] == nil:
				t.Errorf("%s: change %d: attribute_ranges kept where it has none", name, i)
			case raw != nil:
				v, err := ast.ValueFromReader(bytes.NewReader(raw))
				if err != nil || v.Compare(wantRanges[i].Value) != 0 {
					t.Errorf("%s: change %d: kept attribute_ranges %s, want %v", name, i, raw, wantRanges[i])
				}
			}
		}
	}
}

// withoutAttributeRanges returns the document v without its attribute_ranges and
// those of its resource changes, and the changes' (nil for a change without), as
// decodePlanInput should.
func withoutAttributeRanges(t *testing.T, v ast.Value) (ast.Value, []*ast.Term) {
	t.Helper()
	obj, ok := v.(ast.Object)
	if !ok {
		return v, nil
	}
	if obj.Get(ast.StringTerm("attribute_ranges")) != nil {
		kept := ast.NewObject()
		obj.Foreach(func(k, v *ast.Term) {
			if !k.Equal(ast.StringTerm("attribute_ranges")) {
				kept.Insert(k, v)
			}
		})
		obj = kept
		v = kept
	}
	rcs := obj.Get(keyResourceChanges)
	if rcs == nil {
		return v, nil
	}
	arr, ok := rcs.Value.(*ast.Array)
	if !ok {
		return v, nil
	}
	key := ast.StringTerm("attribute_ranges")
	var elems []*ast.Term
	var ranges []*ast.Term
	for i := range arr.Len() {
		e := arr.Elem(i)
		if o, ok := e.Value.(ast.Object); ok {
			ranges = append(ranges, o.Get(key))
			if o.Get(key) != nil {
				kept := ast.NewObject()
				o.Foreach(func(k, v *ast.Term) {
					if !k.Equal(key) {
						kept.Insert(k, v)
					}
				})
				e = ast.NewTerm(kept)
			}
		} else {
			ranges = append(ranges, nil)
		}
		elems = append(elems, e)
	}
	out := obj.Copy()
	out.Insert(keyResourceChanges, ast.ArrayTerm(elems...))
	return out, ranges
}

// The attribute_ranges that decodePlanInput keeps as JSON, each change's and the
// document's, must be valid JSON all the same: an error in them is reported where it
// is, as decodeInput reports it (the document's by planInput.valid).
func TestDecodePlanInput_invalidRanges(t *testing.T) {
	for _, doc := range []string{
		`{"resource_changes": [{"attribute_ranges": {"a": 1}}, {"attribute_ranges": {"a": 1,}}]}`,
		`{"resource_changes": [{"attribute_ranges": {"a": [1 2]}}]}`,
		`{"resource_changes": [{"attribute_ranges": {"a": "\x"}}]}`,
		`{"resource_changes": [{"attribute_ranges": {"a": 1}`,
		`{"resource_changes": [], "attribute_ranges": {"a": {"b": 1,}}}`,
		`{"attribute_ranges": {"a": [1 2]}, "resource_changes": []}`,
		`{"attribute_ranges": {"a": 1}`,
		// attribute_ranges twice, the first invalid: the last counts, but both are JSON.
		`{"attribute_ranges": {"a": [1 2]}, "attribute_ranges": {"a": 1}, "resource_changes": []}`,
		// Two errors: the first is reported, the table's.
		"{\"attribute_ranges\": {\"a\": {\"b\": 1,}},\n\"resource_changes\": [1 2]}",
		// Nested deeper than decoding allows.
		`{"resource_changes": [{"attribute_ranges": {"a": ` + strings.Repeat("[", 1500) + strings.Repeat("]", 1500) + `}}]}`,
		`{"resource_changes": [], "attribute_ranges": {"a": ` + strings.Repeat("[", 1500) + strings.Repeat("]", 1500) + `}}`,
		`{"attribute_ranges": ` + strings.Repeat("[", 1000) + `1` + strings.Repeat("]", 1000) + `}`,
	} {
		_, want := decodeInput([]byte(doc))
		p, got := decodePlanInput([]byte(doc))
		if got == nil {
			got = p.valid() // the table is checked beside evaluation
		}
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("%s: decodePlanInput error %v, decodeInput's %v", doc, got, want)
		}
	}
}

// Right at the depth decoding allows, ranges are accepted as decoding accepts them.
func TestDecodePlanInput_rangesAtMaxDepth(t *testing.T) {
	for _, doc := range []string{
		`{"attribute_ranges": ` + strings.Repeat("[", 999) + `1` + strings.Repeat("]", 999) + `}`,
		`{"attribute_ranges": ` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`,
		`{"resource_changes": [{"attribute_ranges": ` + strings.Repeat("[", 997) + `1` + strings.Repeat("]", 997) + `}]}`,
		`{"resource_changes": [{"attribute_ranges": ` + strings.Repeat("[", 998) + `1` + strings.Repeat("]", 998) + `}]}`,
	} {
		_, want := decodeInput([]byte(doc))
		p, got := decodePlanInput([]byte(doc))
		if got == nil {
			got = p.valid()
		}
		if (got == nil) != (want == nil) {
			t.Errorf("%.60s…: decodePlanInput error %v, decodeInput's %v", doc, got, want)
		}
	}
}

// A large top-level array after resource_changes (decoded on every core too) leaves
// the changes' attribute_ranges as they were kept.
func TestDecodePlanInput_largeArrayAfterChanges(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"format_version": "1.0", "resource_changes": [{"address": "storage.s", "attribute_ranges": {"protection": {"filename": "s.fab.hcl"}}}], "extra": [`)
	for i := 0; b.Len() < parallelArrayBytes+(1<<20); i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"k": "some filler text for the array"}`)
	}
	b.WriteString("]}")
	p, err := decodePlanInput([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.ranges) != 1 || !strings.Contains(string(p.ranges[0]), "s.fab.hcl") {
		t.Errorf("ranges kept: %d, want the one change's", len(p.ranges))
	}
}

// A syntax error deep in a large resource_changes array is reported where it is, as
// the one-pass decode reports it.
func TestDecodeInput_largeArrayError(t *testing.T) {
	doc := synthPlan(12000)
	at := bytes.LastIndex(doc, []byte(`"action"`))
	bad := append(append(slices.Clone(doc[:at]), `"action" "create"`...), doc[at+len(`"action":"create"`):]...)
	_, err := decodeInput(bad)
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "expected ':'") {
		t.Fatalf("error = %v, want a syntax error about the missing ':'", err)
	}
	line := bytes.Count(bad[:at], []byte("\n")) + 1
	if se.Line != line {
		t.Errorf("error at line %d, want %d", se.Line, line)
	}
}

func BenchmarkDecodeInput(b *testing.B) {
	doc := synthPlan(100000)
	b.ResetTimer()
	for range b.N {
		if _, err := decodeInput(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecodeInput checks that decodeInput never panics and, where OPA's own decoder
// reads a document, reads the same value.
func FuzzDecodeInput(f *testing.F) {
	for _, seed := range []string{
		`{"format_version": "1.0", "resource_changes": [{"after": {"a": [1, 2.5e3, "x\"y"]}}, {"after": {"a": [1, 2.5e3, "x\"y"]}}]}`,
		`[{"a": {"b": {"c": {"d": "\u00e9\\"}}}}]`,
		`{"resource_changes": [{"attribute_ranges": {"a": 1}, "k": 2}, {"attribute_ranges": {"a": 1}}, {"attribute_ranges": 3}, {}]}`,
		`{"resource_changes": [{"attribute_ranges": {"a": 1}}, {"attribute_ranges": {"a": 1,}}]}`, `"\ud800"`, `-0.0e-0`, `{"a":}`, `[1,]`, `{"a" 1}`, "\"\xff\"", `{{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeInput(data)
		want, werr := ast.ValueFromReader(bytes.NewReader(data))
		if err == nil && werr == nil && want.Compare(got) != 0 {
			t.Errorf("decodeInput(%q) = %v, OPA reads %v", data, got, want)
		}
		plan, perr := decodePlanInput(data)
		if perr == nil {
			perr = plan.valid()
		}
		if (perr == nil) != (err == nil) {
			t.Errorf("decodePlanInput(%q): error %v, decodeInput: %v", data, perr, err)
		}
		if perr == nil && werr == nil {
			if wantPlan, _ := withoutAttributeRanges(t, want); wantPlan.Compare(plan.value) != 0 {
				t.Errorf("decodePlanInput(%q) = %v, want %v", data, plan.value, wantPlan)
			}
		}
	})
}

// linePlan lays resource_changes out as fabrica writes plans, one change per line, with
// the elements' text passed through edit (which may join or split lines).
func linePlan(t *testing.T, n int, edit func(lines []string) []string) []byte {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(synthPlan(n), &doc); err != nil {
		t.Fatal(err)
	}
	var rcs []json.RawMessage
	if err := json.Unmarshal(doc["resource_changes"], &rcs); err != nil {
		t.Fatal(err)
	}
	lines := make([]string, len(rcs))
	for i, rc := range rcs {
		lines[i] = string(rc)
	}
	delete(doc, "resource_changes")
	rest, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`{"resource_changes":[` + "\n" + strings.Join(edit(lines), ",\n") + "\n]," + string(rest[1:]))
}

// The plan layout is decoded through lineElements, and a document that only looks like
// it (two elements on a line, one element over two lines) falls back and still decodes
// as OPA does.
func TestDecodeInput_lineLayout(t *testing.T) {
	same := func(lines []string) []string { return lines }
	docs := map[string][]byte{
		"one per line": linePlan(t, 12000, same),
		"two on a line": linePlan(t, 12000, func(lines []string) []string {
			return append([]string{lines[0] + "," + lines[1]}, lines[2:]...)
		}),
		"one over two lines": linePlan(t, 12000, func(lines []string) []string {
			i := strings.Index(lines[5], `"after":`)
			return append(append(slices.Clone(lines[:5]), lines[5][:i]+"\n"+lines[5][i:]), lines[6:]...)
		}),
	}
	// A syntax error in one line is reported where it is, as the one-pass decode does.
	good := docs["one per line"]
	at := bytes.LastIndex(good, []byte(`"action":"create"`))
	bad := append(append(slices.Clone(good[:at]), `"action" "create"`...), good[at+len(`"action":"create"`):]...)
	var se *SyntaxError
	if _, err := decodeInput(bad); !errors.As(err, &se) || se.Line != bytes.Count(bad[:at], []byte("\n"))+1 {
		t.Errorf("a broken line: error %v, want a syntax error on line %d", err, bytes.Count(bad[:at], []byte("\n"))+1)
	}
	// Cut short after a complete element line: not taken for the layout.
	if _, _, _, ok := lineElements(good[:bytes.IndexByte(good[22:], '\n')+23], bytes.IndexByte(good, '[')); ok {
		t.Error("lineElements accepted an array cut short")
	}
	start := bytes.IndexByte(docs["one per line"], '[')
	if _, _, _, ok := lineElements(docs["one per line"], start); !ok {
		t.Fatal("lineElements does not recognise the plan layout")
	}
	for name, doc := range docs {
		if len(doc) < parallelArrayBytes {
			t.Fatalf("%s: %d bytes, under parallelArrayBytes", name, len(doc))
		}
	}
	checkSameAsOPA(t, docs)
}
