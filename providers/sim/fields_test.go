package sim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/providers"
)

// TestSplitObject checks that splitting and joining gives what encoding/json gives, on
// the fast path and the fallback alike.
func TestSplitObject(t *testing.T) {
	tests := []struct {
		in   string
		fast bool
	}{
		{`{}`, true},
		{`{"a":1}`, true},
		{`{"a":-1.5e3,"b":true,"c":null,"d":"x\"y\\u00e9","e":[1,{"f":2}],"g":{"h":"]}"}}`, true},
		{`{"b":1,"a":2}`, false}, // unsorted
		{`{"a": 1}`, false},      // not compact
		{`{"a":1,"a":2}`, false}, // duplicate
		{`{"a\u0062":1}`, false}, // escaped key
		{`{"a":"<&>"}`, true},    // HTML characters kept as written inside values
		{`{"z":{"b":1, "a":2},"y":0}`, false},
		{"{\"a\":\"caf\u00e9\"}", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, fast := splitCanonical(nil, []byte(tt.in))
			if fast != tt.fast {
				t.Errorf("fast path = %v, want %v", fast, tt.fast)
			}
			fs, err := splitObject(nil, []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			want, err := providers.Canonical(providers.Attrs(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.fast && string(merge(fs, nil, nil)) != string(want) {
				t.Errorf("merge = %s, want %s", merge(fs, nil, nil), want)
			}
		})
	}
}

func TestSplitObject_invalid(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":tru}`, `{"a":1,}`, `{"a":[1,,2]}`, `{"a":"\x"}`, `null`, `[1]`, `{"a":01}`} {
		if fs, err := splitObject(nil, []byte(in)); err == nil {
			t.Errorf("splitObject(%q) = %q, want an error", in, fs)
		}
	}
}

func TestMerge(t *testing.T) {
	fs, err := splitObject(nil, []byte(`{"a":1,"id":"x","m":2,"z":3}`))
	if err != nil {
		t.Fatal(err)
	}
	got := merge(fs, []string{"id"}, []field{stringField("b", "<b>"), {key: []byte("z"), val: []byte("4")}, stringField("0", "o")})
	want := `{"0":"o","a":1,"b":"\u003cb\u003e","m":2,"z":4}`
	if string(got) != want {
		t.Errorf("merge = %s, want %s", got, want)
	}
}

// TestWorldFile_fastLayout checks that the world file is written in the layout the fast
// loader reads.
func TestWorldFile_fastLayout(t *testing.T) {
	dir := t.TempDir()
	p := configured(t, dir, `{}`)
	if _, err := runApply(context.Background(), p, createHardware(2)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ".fabrica", worldName))
	if err != nil {
		t.Fatal(err)
	}
	if doc, ok := decodeFast(data); !ok || len(doc.Objects) != 2 {
		t.Fatalf("decodeFast = %v, %v; the file:\n%s", doc, ok, data)
	}
	odd := createHardware(1)
	odd[0].Address = `hardware.odd["<é>"]` // escaped in the file: read by the fallback
	if _, err := runApply(context.Background(), p, odd); err != nil {
		t.Fatal(err)
	}
	objs, err := List(dir)
	if err != nil || len(objs) != 3 || objs[2].Address != odd[0].Address {
		t.Errorf("List = %+v, %v", objs, err)
	}
}

// parseObjectEnds reads what appendJSON writes as parseObjectLine's field-by-field path
// does, whatever the attributes hold, and leaves every other layout to it.
func TestParseObjectEnds(t *testing.T) {
	for _, attrs := range []string{
		`{}`,
		`{"rack":"r1","stage":"in-service"}`,
		`{"a":{"b":1,"hash":"x"},"id":"sim-x","kind":"k","n":[1,{"kind":"y"}]}`,
		`{"s":"q\"uo,\"kind\":\"te\\"}`,
	} {
		o := &Object{ID: "sim-hardware-7", Kind: "hardware", Address: `hardware.a["k"]`, Attrs: []byte(attrs), Hash: "0123abcd"}
		line := o.appendJSON(nil)
		var buf [len(objectKeys)]field
		fs, ok := splitCanonical(buf[:0], line)
		if !ok || len(fs) != len(objectKeys) {
			t.Fatalf("%s: not canonical", line)
		}
		got, ok := parseObjectEnds(line)
		if strings.Contains(o.Address, `"`) {
			if ok {
				t.Errorf("%s: an address with escapes was read from the ends", line)
			}
			o.Address = "hardware.a[1]"
			line = o.appendJSON(nil)
			got, ok = parseObjectEnds(line)
		}
		if !ok {
			t.Fatalf("%s: not read", line)
		}
		if got.ID != o.ID || got.Kind != o.Kind || got.Address != o.Address || got.Hash != o.Hash || string(got.Attrs) != attrs {
			t.Errorf("%s: read %+v", line, got)
		}
	}
	for _, line := range []string{
		`{"address":"a","attrs":{"x":1},"id":"i","kind":"k"}`,                  // no hash
		`{"address":"a","attrs":{"x":1,"hash":"h"},"id":"i","kind":"k"}`,       // a hash inside the attributes only
		`{"address":"a","attrs":{"x":1},"hash":"h","id":"i","kind":"k","z":1}`, // another key
		`{"address":"a","attrs":{"x":1},"hash":"h","id":"i\"","kind":"k"}`,     // an escape
		`{"address":"a","attrs":[1],"hash":"h","id":"i","kind":"k"}`,           // attributes not an object
		`{"address":"a","attrs":{"x":1},"hash":"","id":"i","kind":"k"}`,        // an empty hash
	} {
		if o, ok := parseObjectEnds([]byte(line)); ok {
			t.Errorf("%s: read as %+v", line, o)
		}
	}
}
