package schema

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

func TestDecodeArg_units(t *testing.T) {
	power := Kind(KindFacility).Attr("it_power_kw")
	drive := Kind(KindStorage).Attr("drive_tb")
	for _, tc := range []struct {
		name    string
		attr    *Attr
		in      cty.Value
		want    float64
		summary string
	}{
		{"plain number", power, cty.NumberIntVal(40), 40, ""},
		{"kilowatts string", power, cty.StringVal("40 kW"), 40, ""},
		{"megawatts", power, cty.StringVal("2 MW"), 2000, ""},
		{"watts no space", power, cty.StringVal("500W"), 0.5, ""},
		{"gigabytes to terabytes", drive, cty.StringVal("3840 GB"), 3.84, ""},
		{"wrong unit", power, cty.StringVal("5 TB"), 0, "Wrong unit"},
		{"not a number", power, cty.StringVal("lots"), 0, "Incorrect argument type"},
		{"bool", power, cty.True, 0, "Incorrect argument type"},
		{"negative", power, cty.NumberIntVal(-1), 0, "Value out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, diags := DecodeArg(tc.attr, tc.in, hcl.Range{Filename: "x.fab.hcl"})
			if tc.summary != "" {
				if len(diags) != 1 || diags[0].Summary != tc.summary {
					t.Fatalf("want one %q diagnostic, got %v", tc.summary, diags)
				}
				if diags[0].Detail == "" || diags[0].Subject == nil {
					t.Errorf("diagnostic lacks detail or range: %+v", diags[0])
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("unexpected diagnostics: %v", diags)
			}
			if f, _ := got.AsBigFloat().Float64(); f != tc.want {
				t.Errorf("got %v, want %v", f, tc.want)
			}
		})
	}
}

func TestDecodeArg_enumSuggestion(t *testing.T) {
	a := Kind(KindFabric).Attr("transport")
	_, diags := DecodeArg(a, cty.StringVal("infiniban"), hcl.Range{})
	if len(diags) != 1 || diags[0].Summary != "Invalid value for transport" {
		t.Fatalf("got %v", diags)
	}
	if want := `Did you mean "infiniband"?`; !strings.Contains(diags[0].Detail, want) {
		t.Errorf("detail %q lacks %q", diags[0].Detail, want)
	}
}

func TestDecodeArg_references(t *testing.T) {
	a := Kind(KindHardware).Attr("facility")
	obj := cty.ObjectVal(map[string]cty.Value{AddressAttr: cty.StringVal("facility.main")})
	got, diags := DecodeArg(a, obj, hcl.Range{})
	if diags.HasErrors() || got.AsString() != "facility.main" {
		t.Fatalf("got %v %v", got, diags)
	}
	wrong := cty.ObjectVal(map[string]cty.Value{AddressAttr: cty.StringVal("hardware.x[2]")})
	_, diags = DecodeArg(a, wrong, hcl.Range{})
	if len(diags) != 1 || diags[0].Summary != "Reference to the wrong kind of resource" {
		t.Fatalf("wrong kind: got %v", diags)
	}
	list := Kind(KindFabric).Attr("endpoints")
	tuple := cty.TupleVal([]cty.Value{
		cty.ObjectVal(map[string]cty.Value{AddressAttr: cty.StringVal("hardware.n[0]")}),
		cty.ObjectVal(map[string]cty.Value{AddressAttr: cty.StringVal("hardware.n[1]")}),
	})
	got, diags = DecodeArg(list, tuple, hcl.Range{})
	if diags.HasErrors() || got.LengthInt() != 2 || got.Index(cty.NumberIntVal(1)).AsString() != "hardware.n[1]" {
		t.Fatalf("list: got %v %v", got, diags)
	}
}

// A reference list with an element not yet known is returned as it is, marks and all,
// without diagnostics; known address strings are kept.
func TestDecodeArg_referenceListUnknown(t *testing.T) {
	list := Kind(KindFabric).Attr("endpoints")
	partly := cty.TupleVal([]cty.Value{cty.StringVal("hardware.n[0]"), cty.UnknownVal(cty.String)}).Mark("m")
	got, diags := DecodeArg(list, partly, hcl.Range{})
	if len(diags) != 0 || !got.RawEquals(partly) {
		t.Fatalf("got %#v %v, want the value as given", got, diags)
	}
	known := cty.TupleVal([]cty.Value{cty.StringVal("hardware.n[0]"), cty.StringVal("hardware.n[1]")})
	got, diags = DecodeArg(list, known, hcl.Range{})
	want := cty.ListVal([]cty.Value{cty.StringVal("hardware.n[0]"), cty.StringVal("hardware.n[1]")})
	if len(diags) != 0 || !got.RawEquals(want) {
		t.Fatalf("got %#v %v, want %#v", got, diags, want)
	}
	if _, diags := DecodeArg(list, cty.TupleVal([]cty.Value{cty.StringVal("facility.f")}), hcl.Range{}); len(diags) != 1 {
		t.Fatalf("a facility among endpoints: got %v, want one error", diags)
	}
	// A wrong element before an unknown one waits, like the rest, for the value to be known.
	for _, v := range []cty.Value{
		cty.TupleVal([]cty.Value{cty.StringVal("facility.f"), cty.UnknownVal(cty.String)}),
		cty.TupleVal([]cty.Value{cty.NullVal(cty.String), cty.DynamicVal}),
		cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.DynamicVal}),
	} {
		if got, diags := DecodeArg(list, v, hcl.Range{}); len(diags) != 0 || !got.RawEquals(v) {
			t.Errorf("DecodeArg(%#v) = %#v, %v; want it as given, no diagnostics", v, got, diags)
		}
	}
}
