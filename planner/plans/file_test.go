package plans

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeChange reads a resource change line exactly as encoding/json does, and fails
// where it fails.
func TestDecodeChange_matchesEncodingJSON(t *testing.T) {
	lines := []string{
		`{"address":"hardware.n[2]","kind":"hardware","name":"n","index":2,"provider":"sim","action":"create","reason":"new","before":null,"after":{"a":[1,{"b":"}"}],"s":"é"},"after_unknown":["id"],"derived":["gpus","power_kw"],"decl_range":{"filename":"m.fab.hcl","start":{"line":1,"column":1,"byte":0},"end":{"line":1,"column":5,"byte":4}},"attribute_ranges":{"a":{"filename":"m.fab.hcl","start":{"line":2,"column":3,"byte":9},"end":{"line":2,"column":4,"byte":10}}},"config_hash":"h","dependencies":["facility.f"]}`,
		`{"address":"hardware.x[\"a\u003cb\"]","kind":"hardware","name":"x","index":"a<b","provider":"sim","action":"replace","before":{"a":1},"after":{"a":"é\n"},"replace_paths":["a"],"changed_attributes":["a"],"sensitive_attributes":["bmc_password"],"prior_id":"id-1","create_before_destroy":true,"prevent_destroy":true,"record_only":true}`,
		` { "address" : "facility.f" , "action" : "delete" , "before" : { } , "after" : null , "derived" : [ ] , "extra" : [1] , "addr\u0065ss" : "facility.g" } `,
		`{"address":"ünïcode","reason":"tab\there","dependencies":null,"decl_range":null,"attribute_ranges":null,"index":1.5e0}`,
		`{"address":"a","address":"b","before":{"x":1},"before":[2]}`,
		`{"address":"a","address":null,"action":"create","action":null,"reason":null,"derived":["x"],"derived":null}`,
		`{}`,
		`{"decl_range":{"filename":"dïr/m.fab.hcl","start":{"line":-1,"column":0,"byte":12},"end":{"line":1,"column":2,"byte":3,"x":1}},"attribute_ranges":{"a\u0062":{"filename":"a\"b","start":{"line":1}},"c":{"end":{"line":2,"column":3,"byte":4},"start":{"byte":0,"line":9,"column":9}}}}`,
		`{"attribute_ranges":{"a":null},"decl_range":{"filename":"m","start":null}}`,
		// Broken lines: both must fail.
		`{"decl_range":{"filename":"m","start":{"line":01}}}`,
		`{"decl_range":{"filename":"m","start":{"line":1.5}}}`,
		`{"attribute_ranges":{"a":{"start":{"line":1e2}}}}`,
		`{"attribute_ranges":{"a":[]}}`,
		`{"address":"a","before":{"x":tru}}`,
		`{"address":"a"`,
		`{"address":1}`,
		`{"derived":["a",2]}`,
		`{"derived":"a"}`,
		`{"derived":["a",]}`,
		`{"derived":["a" ,"b" , ]}`,
		`{"record_only":"yes"}`,
		`{"index":[}`,
		`{"address":"a",}`,
		`["address"]`,
		`{"address":"a"} {}`,
		`{"address":"bad \x01 control"}`,
	}
	for _, line := range lines {
		var want ResourceChange
		wantErr := json.Unmarshal([]byte(line), &want)
		var got ResourceChange
		gotErr := (&rangeInterner{}).decodeChange([]byte(line), &got)
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s:\nerror %v, encoding/json's %v", line, gotErr, wantErr)
			continue
		}
		if wantErr != nil {
			continue
		}
		if d := cmp.Diff(&want, &got); d != "" {
			t.Errorf("%s:\ndecodeChange differs from encoding/json (-json +decodeChange):\n%s", line, d)
		}
	}
}

// decodeRangesTable reads the lines of attribute_ranges as encoding/json reads the
// member, and fails where it fails.
func TestDecodeRangesTable_matchesEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`"hardware.a":{"rack":{"filename":"m.fab.hcl","start":{"line":2,"column":3,"byte":9},"end":{"line":2,"column":4,"byte":10}}}`,
		`"hardware.a":{},` + "\n" + `"hardware.b":null,` + "\n" + `"h\u0061rdware.c":{"a\u0062":{"filename":"a\"b","start":{"line":1}}}`,
		`"x":{"a":{"filename":"m"}},` + "\n" + `"x":{"b":{"filename":"n"}}`,
		`"x":{"a":{"filename":"m","start":{"line":1e2}}}`,
		// Broken: both must fail.
		`"x":{"a":[]}`,
		`"x":{"a":{"filename":"m",}}`,
		`"x" {"a":{}}`,
		`"x":{"a":{}}` + "\n" + `"y":{}`,
		`x:{}`,
	} {
		var want map[string]map[string]*Range
		wantErr := json.Unmarshal([]byte("{"+body+"}"), &want)
		got, gotErr := decodeRangesTable([]byte(body))
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s:\nerror %v, encoding/json's %v", body, gotErr, wantErr)
			continue
		}
		if d := cmp.Diff(want, got); wantErr == nil && d != "" {
			t.Errorf("%s:\ndecodeRangesTable differs from encoding/json (-json +decodeRangesTable):\n%s", body, d)
		}
	}
}

// A plan file of another format (1.0 kept attribute_ranges in every change) is refused
// with the way out.
func TestReadFile_otherFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.plan")
	if err := WriteFile(path, &Plan{FormatVersion: "1.0", Mode: ModeNormal}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path, nil)
	if err == nil || !strings.Contains(err.Error(), `has plan format "1.0"; this fabrica reads format "1.1": make the plan again with fabrica plan --out `+path) {
		t.Errorf("ReadFile of a format 1.0 plan: %v", err)
	}
}
