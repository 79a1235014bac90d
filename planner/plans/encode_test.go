package plans

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEncode_matchesEncodingJSON checks the hand-written encoder against encoding/json.
func TestEncode_matchesEncodingJSON(t *testing.T) {
	p := &Plan{FormatVersion: FormatVersion, Mode: ModeNormal, Lineage: "l", PriorSerial: 3,
		Aggregates: []*FacilityImpact{}, Outputs: map[string]json.RawMessage{}, Diagnostics: []Diagnostic{},
		ResourceChanges: []*ResourceChange{
			{Address: `hardware.x["a<b"]`, Kind: "hardware", Name: "x", Index: "a<b", Provider: "sim", Action: Replace,
				Reason: "config changed", Before: json.RawMessage(`{"a":1}`), After: json.RawMessage(`{"a":"é\n"}`),
				AfterUnknown: []string{"id"}, Derived: []string{"gpus"}, ReplacePaths: []string{"a"}, ChangedAttributes: []string{"a"},
				DeclRange: &Range{Filename: "m.fab.hcl", Start: Pos{Line: 1, Column: 1, Byte: 0}, End: Pos{Line: 1, Column: 5, Byte: 4}},
				PriorID:   "id-1", ConfigHash: "h",
				Dependencies: []string{"facility.f"}, CreateBeforeDestroy: true, PreventDestroy: true, RecordOnly: true},
			{Address: "facility.f", Kind: "facility", Name: "f", Provider: "sim", Action: Delete, Before: json.RawMessage(`{}`)},
			{Address: "hardware.n[2]", Kind: "hardware", Name: "n", Index: 2, Provider: "sim", Action: Create, After: json.RawMessage(`{}`)},
			// The encoder keeps the last list of each name: equal lists in other slices,
			// lists of the same length with other names, none, and one again.
			{Address: "hardware.n[3]", Kind: "hardware", Name: "n", Index: 3, Action: Create, Derived: []string{"gpus"}, Dependencies: []string{"facility.f"}},
			{Address: "hardware.n[4]", Kind: "hardware", Name: "n", Index: 4, Action: Create, Derived: []string{"gpus"}, Dependencies: []string{"facility.g"}},
			{Address: "hardware.n[5]", Kind: "hardware", Name: "n", Index: 5, Action: Create},
			{Address: "hardware.n[6]", Kind: "hardware", Name: "n", Index: 6, Action: Create, Derived: []string{"rails"}, Dependencies: []string{"facility.g", "x<y"}},
		},
		AttributeRanges: map[string]map[string]*Range{
			`hardware.x`: {"a": {Filename: "m.fab.hcl"}, "b.c<d": {Filename: "é.fab.hcl", Start: Pos{Line: 2, Column: 3, Byte: 9}}},
			`hardware.n`: {},
		}}
	var got bytes.Buffer
	if err := Encode(&got, p); err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(got.Bytes(), &a); err != nil {
		t.Fatalf("Encode wrote invalid JSON: %v\n%s", err, got.String())
	}
	want, _ := json.Marshal(p)
	_ = json.Unmarshal(want, &b)
	if d := cmp.Diff(b, a); d != "" {
		t.Errorf("Encode differs from encoding/json (-json +Encode):\n%s", d)
	}
}

func TestDecode_roundTrip(t *testing.T) {
	p := &Plan{FormatVersion: FormatVersion, Mode: ModeNormal, Lineage: "l",
		Outputs: map[string]json.RawMessage{"x": json.RawMessage(`1`)}}
	// Instances of a block share their ranges; decoding shares them again, so the
	// decoded ranges are checked both for content and for not being mixed up.
	shared := &Range{Filename: "a<b>.fab.hcl", Start: Pos{Line: 3, Column: 1, Byte: 40}, End: Pos{Line: 3, Column: 9, Byte: 48}}
	sharedAttrs := map[string]*Range{"rack": {Filename: "a<b>.fab.hcl", Start: Pos{Line: 4, Column: 3, Byte: 50}}, "role": shared}
	for i := range 50 {
		rc := &ResourceChange{Address: "hardware.n[" + string(rune('0'+i%10)) + "]",
			Kind: "hardware", Action: Create, After: json.RawMessage(`{"a":"x,\n"}`), Index: i}
		switch i % 3 {
		case 0:
			rc.DeclRange = shared
		case 1:
			rc.DeclRange = &Range{Filename: "n.fab.hcl", Start: Pos{Line: i, Column: 1, Byte: i * 10}}
		}
		p.ResourceChanges = append(p.ResourceChanges, rc)
	}
	// More resources than one goroutine decodes, so the table is read on every core.
	p.AttributeRanges = map[string]map[string]*Range{"hardware.n": sharedAttrs, `hardware.q"uote`: nil}
	for i := range 3000 {
		p.AttributeRanges[fmt.Sprintf("hardware.r%d", i)] = map[string]*Range{"rack": {Filename: "n.fab.hcl", Start: Pos{Line: i + 1, Column: 3, Byte: i*10 + 5}}}
	}
	for _, tc := range []*Plan{p, {FormatVersion: FormatVersion}} {
		var b bytes.Buffer
		if err := Encode(&b, tc); err != nil {
			t.Fatal(err)
		}
		before := tablesDecoded.Load()
		got, err := Decode(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if tc.AttributeRanges != nil && tablesDecoded.Load() == before {
			t.Error("Decode read attribute_ranges with encoding/json, not line by line")
		}
		var w1, w2 bytes.Buffer
		_ = Encode(&w1, tc)
		_ = Encode(&w2, got)
		if w1.String() != w2.String() {
			t.Errorf("round trip differs:\n%s\n---\n%s", w1.String(), w2.String())
		}
	}
}

// A large plan's changes are encoded in chunks on several goroutines; the bytes must be
// those of encoding them one after another.
func TestEncode_chunksInOrder(t *testing.T) {
	p := &Plan{FormatVersion: FormatVersion}
	shared := &Range{Filename: "m.fab.hcl", Start: Pos{Line: 2, Column: 1, Byte: 9}}
	for i := range 3*encodeChunk + 5 {
		p.ResourceChanges = append(p.ResourceChanges, &ResourceChange{Address: fmt.Sprintf("hardware.n[%d]", i),
			Kind: "hardware", Name: "n", Index: i, Action: Create, After: json.RawMessage(fmt.Sprintf(`{"rack":"r%d"}`, i/4)),
			DeclRange: shared, Dependencies: []string{"facility.f"}})
	}
	var got bytes.Buffer
	if err := Encode(&got, p); err != nil {
		t.Fatal(err)
	}
	var seq bytes.Buffer
	e := &encoder{w: bufio.NewWriter(&seq)}
	e.changeRange(p.ResourceChanges, 0)
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	want := "\n\"resource_changes\":[" + seq.String() + "\n]"
	if !strings.Contains(got.String(), want) {
		t.Errorf("the chunked encoding differs from the sequential one")
	}
	back, err := Decode(got.Bytes())
	if err != nil || len(back.ResourceChanges) != len(p.ResourceChanges) || back.ResourceChanges[len(p.ResourceChanges)-1].Address != p.ResourceChanges[len(p.ResourceChanges)-1].Address {
		t.Errorf("decoding the chunked encoding: %v", err)
	}
}

// With KeepEncoding, the plan and its redacted copy are encoded as they would be
// without it: the kept encoding of the redacted changes is reused only where Redact
// changed nothing, never where it hid a secret.
func TestKeepEncoding(t *testing.T) {
	for _, secret := range []bool{false, true} {
		t.Run(fmt.Sprintf("secret=%v", secret), func(t *testing.T) {
			p := &Plan{FormatVersion: FormatVersion, Mode: ModeNormal,
				AttributeRanges: map[string]map[string]*Range{"hardware.n": {"rack": {Filename: "m.fab.hcl"}}}}
			for i := range 3 * encodeChunk { // enough for the chunked, parallel encoder
				rc := &ResourceChange{Address: fmt.Sprintf("hardware.n[%d]", i), Kind: "hardware", Name: "n", Index: i,
					Provider: "sim", Action: Create, After: json.RawMessage(`{"bmc_password":"pw","rack":"r"}`)}
				if secret && i == 7 {
					rc.SensitiveAttributes = []string{"bmc_password"}
				}
				p.ResourceChanges = append(p.ResourceChanges, rc)
			}
			encode := func(p *Plan) string {
				var b bytes.Buffer
				if err := Encode(&b, p); err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			// A file, not a bytes.Buffer: Encode keeps its own copy of the changes.
			encodeToFile := func(p *Plan) string {
				var b bytes.Buffer
				if err := Encode(struct{ io.Writer }{&b}, p); err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			wantRedacted, wantPlain := encode(Redact(p)), encode(p)
			if !strings.Contains(wantPlain, "\n\"attribute_ranges\":{\n\"hardware.n\":{\"rack\":") {
				t.Fatalf("no attribute_ranges in the plan's encoding")
			}
			if got := encodeToFile(p); got != wantPlain {
				t.Error("encoding to a writer differs from encoding to a buffer")
			}

			p.KeepEncoding()
			if got := encode(Redact(p)); got != wantRedacted {
				t.Error("the redacted plan's encoding changed with KeepEncoding")
			}
			if got := encodeToFile(Redact(p)); got != wantRedacted {
				t.Error("the redacted plan's kept encoding, written to a file, differs")
			}
			other := &Plan{FormatVersion: FormatVersion, Mode: ModeNormal, ResourceChanges: p.ResourceChanges, AttributeRanges: p.AttributeRanges}
			other.KeepEncoding()
			if got := encodeToFile(other); got != wantPlain {
				t.Error("the plan's encoding, kept while written to a file, differs")
			}
			if got := encodeToFile(other); got != wantPlain {
				t.Error("the plan's kept encoding, written again, differs")
			}
			p.Policy = json.RawMessage(`{"findings":[]}`) // as the policy stage does
			got := encode(p)
			if want := strings.Replace(wantPlain, "\n}\n", ",\n\"policy\":{\"findings\":[]}\n}\n", 1); got != want {
				t.Error("the plan's encoding after its redacted copy's differs from encoding it alone")
			}
			if strings.Contains(wantRedacted, `"(sensitive)"`) != secret || strings.Contains(got, `"(sensitive)"`) {
				t.Error("redaction is not where it should be")
			}
		})
	}
}
