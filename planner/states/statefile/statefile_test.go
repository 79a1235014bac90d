package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC)

// sample returns a small state that uses every field.
func sample() *states.State {
	s := &states.State{FabricaVersion: "0.1.0", Serial: 7, Lineage: "0b6d1c1e-8f7a-4c55-9a51-3f6e2d4b7c10"}
	s.Outputs = map[string]json.RawMessage{"gpus": json.RawMessage(`4096`), "site": json.RawMessage(`{"name":"dc1"}`)}
	s.Put(&states.Instance{Address: "hardware.node[10]", Kind: "hardware", Provider: "sim", ID: "hw-10",
		Attrs: json.RawMessage(`{"gpu_count":8,"name":"node \"10\"\n"}`), AttrsHash: "ab12", ConfigHash: "cd34",
		Dependencies: []string{"facility.dc", `rack.r["east"]`}, CreatedAt: t0, UpdatedAt: t0.Add(time.Hour), Tainted: true,
		Sensitive: []string{"bmc_password", "token"}})
	s.Put(&states.Instance{Address: "hardware.node[2]", Kind: "hardware", Provider: "sim", ID: "hw-2",
		Attrs: json.RawMessage(`{"gpu_count":8,"name":"nœud ✓"}`)})
	s.Put(&states.Instance{Address: "facility.dc", Kind: "facility", Provider: "sim", ID: "dc"})
	return s
}

func TestRoundTrip(t *testing.T) {
	want := sample()
	data, err := Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, data)
	}
	if got.Serial != want.Serial || got.Lineage != want.Lineage || got.FabricaVersion != want.FabricaVersion ||
		got.FormatVersion != states.FormatVersion {
		t.Errorf("header = %d %s %s %d", got.Serial, got.Lineage, got.FabricaVersion, got.FormatVersion)
	}
	if !got.SameContent(want) {
		t.Errorf("content differs:\n%s", data)
	}
	if diff := cmp.Diff(want.Addresses(), got.Addresses()); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	again, err := Marshal(got)
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("second Marshal differs (err %v):\n%s\n---\n%s", err, data, again)
	}
}

func TestMarshal_deterministic(t *testing.T) {
	a := sample()
	b := &states.State{FabricaVersion: a.FabricaVersion, Serial: a.Serial, Lineage: a.Lineage,
		Outputs: map[string]json.RawMessage{"site": json.RawMessage(`{ "name" : "dc1" }`), "gpus": json.RawMessage(`4096`)}}
	addrs := a.Addresses()
	for i := len(addrs) - 1; i >= 0; i-- { // reverse insertion order
		b.Put(a.Get(addrs[i]).DeepCopy())
	}
	da, err := Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(da, db) {
		t.Errorf("same content, different bytes:\n%s\n---\n%s", da, db)
	}
	want := `{
  "format_version": 2,
  "fabrica_version": "0.1.0",
  "serial": 7,
  "lineage": "0b6d1c1e-8f7a-4c55-9a51-3f6e2d4b7c10",
  "outputs": {
    "gpus": 4096,
    "site": {"name":"dc1"}
  },
  "resources": [
    {"address":"facility.dc","kind":"facility","provider":"sim","id":"dc","attrs":null},
    {"address":"hardware.node[2]","kind":"hardware","provider":"sim","id":"hw-2","attrs":{"gpu_count":8,"name":"nœud ✓"}},
    {"address":"hardware.node[10]","kind":"hardware","provider":"sim","id":"hw-10","attrs":{"gpu_count":8,"name":"node \"10\"\n"},"attrs_hash":"ab12","config_hash":"cd34","dependencies":["facility.dc","rack.r[\"east\"]"],"created_at":"2026-03-01T12:00:00.5Z","updated_at":"2026-03-01T13:00:00.5Z","tainted":true,"sensitive_attributes":["bmc_password","token"]}
  ]
}
`
	if diff := cmp.Diff(want, string(da)); diff != "" {
		t.Errorf("bytes (-want +got):\n%s", diff)
	}
	empty, _ := Marshal(&states.State{Lineage: "l"})
	if got := string(empty); !strings.Contains(got, `"outputs": {},`) || !strings.Contains(got, `"resources": []`) {
		t.Errorf("empty state:\n%s", got)
	}
}

func TestMarshal_timestampOutOfRange(t *testing.T) {
	s := &states.State{Lineage: "l"}
	s.Put(&states.Instance{Address: "hardware.a", Kind: "hardware", CreatedAt: time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)})
	if _, err := Marshal(s); err == nil || !strings.Contains(err.Error(), "outside the years") {
		t.Errorf("Marshal = %v", err)
	}
}

func TestMarshal_invalidAttrs(t *testing.T) {
	for _, attrs := range []string{`{"a":}`, `[1]`, `{"a":1} x`, "{\"a\":\"\x01\"}"} {
		s := &states.State{Lineage: "l"}
		s.Put(&states.Instance{Address: "hardware.a", Kind: "hardware", Attrs: json.RawMessage(attrs)})
		if _, err := Marshal(s); err == nil || !strings.Contains(err.Error(), "attributes of hardware.a") {
			t.Errorf("Marshal with attrs %q: err = %v", attrs, err)
		}
	}
}

func TestParse_errors(t *testing.T) {
	head := `{"format_version":1,"serial":1,"lineage":"l",`
	tests := []struct {
		name, data, want string
		line, col        int
	}{
		{"empty", ``, "unexpected end of input", 1, 1},
		{"not an object", `[]`, "a state file is a JSON object", 1, 1},
		{"truncated", head + "\n\"resources\": [\n  {\"address\":\"a.b\",", "unexpected end of input", 3, 20},
		{"bad attrs", head + "\n\"resources\": [\n{\"address\":\"a.b\",\"kind\":\"a\",\"attrs\":{\"x\":tru}}]}", "expected true", 3, 42},
		{"attrs not an object", head + `"resources":[{"address":"a.b","kind":"a","attrs":[1]}]}`, "a JSON object (the attributes)", 1, 95},
		{"duplicate address", head + "\"resources\":[\n{\"address\":\"a.b\",\"kind\":\"a\"},\n{\"address\":\"a.b\",\"kind\":\"a\"}]}", "duplicate resource instance address a.b", 3, 1},
		{"unknown field", head + `"extra":1}`, `unknown field "extra"`, 1, 46},
		{"unknown instance field", head + `"resources":[{"address":"a.b","kind":"a","colour":1}]}`, `unknown field "colour"`, 1, 87},
		{"duplicate field", head + `"serial":2}`, `duplicate field "serial"`, 1, 46},
		{"no version", `{"serial":1,"lineage":"l"}`, "format_version is missing", 1, 1},
		{"version zero", `{"format_version":0}`, "at least 1", 1, 2},
		{"no lineage", `{"format_version":1}`, "lineage is missing", 1, 1},
		{"negative serial", `{"format_version":1,"serial":-1}`, "serial (a non-negative integer)", 1, 30},
		{"trailing data", head + `"resources":[]} {}`, "expected the end of the file", 1, 62},
		{"no kind", head + `"resources":[{"address":"a.b"}]}`, "has no kind", 1, 59},
		{"bad time", head + `"resources":[{"address":"a.b","kind":"a","created_at":"yesterday"}]}`, "invalid timestamp", 1, 100},
		{"control char", head + "\"fabrica_version\":\"a\x01\"}", "control character", 1, 66},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error = %v (%T), want *Error", err, err)
			}
			if !strings.Contains(e.Msg, tt.want) {
				t.Errorf("message %q does not contain %q", e.Msg, tt.want)
			}
			if e.Line != tt.line || e.Column != tt.col {
				t.Errorf("position = line %d, column %d; want line %d, column %d (%v)", e.Line, e.Column, tt.line, tt.col, err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("(byte %d)", e.Offset)) {
				t.Errorf("error %q does not give the byte offset", err)
			}
		})
	}
}

func TestParse_newerFormat(t *testing.T) {
	for _, data := range []string{
		`{"format_version":3,"resources":{"totally":"different"}}`,
		`{"resources":{"totally":"different"},"format_version":3}`,
	} {
		_, err := Parse([]byte(data))
		var ve *VersionError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), "state was written by a newer fabrica (format") {
			t.Errorf("Parse(%s) = %v, want a VersionError", data, err)
		}
	}
}

func TestParse_lenient(t *testing.T) {
	// Hand-written: fields in another order, whitespace everywhere, escapes, offsets.
	data := `
	{ "lineage" : "l", "resources" : [
		{ "kind" : "hardware", "address" : "hardware.\u0061",
		  "attrs" : { "x" : [ 1 , 2 ] },
		  "created_at" : "2026-03-01T13:00:00+01:00" } ],
	  "serial" : 3, "format_version" : 1, "outputs": { "o" : [ 1 ] } }`
	s, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	a := s.Get("hardware.a")
	if a == nil || string(a.Attrs) != `{"x":[1,2]}` || !a.CreatedAt.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("instance = %+v", a)
	}
	if string(s.Outputs["o"]) != `[1]` || s.Serial != 3 {
		t.Errorf("outputs %s serial %d", s.Outputs["o"], s.Serial)
	}
	// Appending to parsed attrs must not overwrite the data after them.
	_ = append(a.Attrs, "garbage"...)
	if !strings.Contains(data, `"created_at" : "2026`) {
		t.Error("append to Attrs overwrote the input")
	}
}

func TestValidValue(t *testing.T) {
	cases := []string{
		`{}`, `[]`, `""`, `0`, `-0.5e+10`, `true`, `false`, `null`, `{"a":[1,{"b":null}],"c":"\u00e9\n"}`,
		`{"a" : 1 }`, "[\n1,\t2\r]", `"abcdefghijklmnopqrstuvwxyz0123456789"`, `"ab\"cd"`,
		`{`, `[1,]`, `{"a"}`, `{"a":1,}`, `01`, `1.`, `-`, `1e`, `tru`, `nul`, `"\x"`, `"\u12"`, "\"a\x1fb\"", `"abc`,
		`{"a":1]`, `[1}`, `{1:2}`, `"` + strings.Repeat("x", 40) + `\"` + `"`,
	}
	for _, c := range cases {
		end, _, msg := validValue([]byte(c), 0)
		ok := msg == "" && end == len(c)
		if want := json.Valid([]byte(c)); ok != want {
			t.Errorf("validValue(%q) = %v (end %d, %q), json.Valid = %v", c, ok, end, msg, want)
		}
	}
}

func FuzzValidValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}]}`, `"\u00e9"`, `-1.5e3`, `[true,false,null]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		end, _, msg := validValue(b, 0)
		ok := msg == "" && end == len(b)
		if ok != json.Valid(b) && len(b) > 0 && !isSpace(b[0]) && !isSpace(b[len(b)-1]) {
			t.Errorf("validValue(%q) = %v, json.Valid disagrees", b, ok)
		}
	})
}

func TestPlainASCII(t *testing.T) {
	cases := []string{"", "a", "hardware.node[12]", "0123456789abcdef0123456789abcdef", "é", "abcdefgh\x01", "abcdefghij\"", `abcdefghijk\`, "abcdefgh\x7f", "abc\x80defghijkl"}
	rnd := uint32(1)
	for range 5000 { // random strings over the bytes that matter
		b := make([]byte, rnd%24)
		for i := range b {
			rnd = rnd*1664525 + 1013904223
			b[i] = []byte{'a', 'z', ' ', '"', '\\', 0x1f, 0x20, 0x7f, 0x80, 0xff, '0'}[rnd>>16%11]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		want := true
		for _, r := range []byte(s) {
			if r < 0x20 || r == '"' || r == '\\' || r >= 0x80 {
				want = false
			}
		}
		if got := plainASCII(s); got != want {
			t.Errorf("plainASCII(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestAppendTime(t *testing.T) {
	loc := time.FixedZone("x", 3600+1800)
	for _, tm := range []time.Time{
		time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 123_456_789, loc),
		time.Date(2000, 2, 29, 0, 0, 1, 1, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 7, 4, 5, 6, 7, 80_000, time.UTC),
	} {
		want := `"` + tm.UTC().Format(time.RFC3339Nano) + `"`
		if got, _ := appendTime(nil, tm); string(got) != want {
			t.Errorf("appendTime(%v) = %s, want %s", tm, got, want)
		}
		p := &parser{scanner: scanner{data: []byte(want)}}
		if back, ok := p.timestamp(); !ok || !back.Equal(tm) {
			t.Errorf("timestamp(%s) = %v, %v", want, back, p.err)
		}
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts writes back to
// a file it reads the same.
func FuzzParse(f *testing.F) {
	data, _ := Marshal(sample())
	f.Add(data)
	f.Add([]byte(`{"format_version":1,"lineage":"l","resources":[{"address":"a.b","kind":"a","attrs":{"x":[1,2]}}]}`))
	f.Add([]byte("{\"format_version\":1,\"lineage\":\"l\xff\",\"resources\":[{\"address\":\"a.\xfe\",\"kind\":\"a\"}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		out, err := Marshal(s)
		if err != nil {
			t.Fatalf("Marshal of a parsed state: %v", err)
		}
		again, err := Parse(out)
		if err != nil || !again.SameContent(s) || again.Serial != s.Serial || again.Lineage != s.Lineage {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
	})
}

func TestParse_invalidUTF8(t *testing.T) {
	data := "{\"format_version\":1,\"lineage\":\"l\",\"resources\":[{\"address\":\"hardware.caf\xe9\",\"kind\":\"hardware\",\"id\":\"n\u00e9\"}]}"
	s, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if s.Get("hardware.caf\ufffd") == nil || s.Get("hardware.caf\ufffd").ID != "n\u00e9" {
		t.Errorf("addresses %q", s.Addresses())
	}
}
