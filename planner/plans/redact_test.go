package plans

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestRedactAttrs(t *testing.T) {
	names := []string{"bmc_password", "env", "we\"ird"}
	for _, tc := range []struct{ in, want string }{
		{`{"bmc_password":"s3cret","rack":"r1"}`, `{"bmc_password":"(sensitive)","rack":"r1"}`},
		{`{"a":1,"env":{"K":"v","n":[1,{"x":"}"}]},"z":"bmc_password"}`, `{"a":1,"env":"(sensitive)","z":"bmc_password"}`},
		{`{ "env" : [ "a", "b\"]" ] , "b" : null }`, `{ "env" : "(sensitive)" , "b" : null }`},
		{`{"we\"ird":true,"x":"env"}`, `{"we\"ird":"(sensitive)","x":"env"}`},
		{`{"rack":"r1"}`, `{"rack":"r1"}`},
		{`{"env_name":"not it","bmc_password":12.5e3}`, `{"env_name":"not it","bmc_password":"(sensitive)"}`},
		{`{}`, `{}`},
		{`null`, `null`},
	} {
		got := string(redactAttrs(json.RawMessage(tc.in), names))
		if got != tc.want {
			t.Errorf("redactAttrs(%s) = %s, want %s", tc.in, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("redactAttrs(%s) = %s: not JSON", tc.in, got)
		}
	}
	// Malformed attributes come back as they were (a provider bug, reported elsewhere).
	for _, in := range []string{`{"env":`, `{"env" "x"}`, `{"env":"x"`, `["env"]`} {
		if got := string(redactAttrs(json.RawMessage(in), names)); got != in {
			t.Errorf("redactAttrs(%s) = %s, want it unchanged", in, got)
		}
	}
}

// A key written with escapes is the same key: its value is redacted too.
func TestRedactAttrs_escapedKey(t *testing.T) {
	in := `{"bmc\u005fpassword":"s3cret","rack":"r1"}`
	want := `{"bmc\u005fpassword":"(sensitive)","rack":"r1"}`
	if got := string(redactAttrs(json.RawMessage(in), []string{"bmc_password"})); got != want {
		t.Errorf("redactAttrs(%s) = %s, want %s", in, got, want)
	}
}

// Redact hides secrets in before and after, whether they differ or not, and leaves the
// plan it was given as it was.
func TestRedact(t *testing.T) {
	secret := json.RawMessage(`{"bmc_password":"s3cret","rack":"r1"}`)
	moved := json.RawMessage(`{"bmc_password":"s3cret","rack":"r2"}`)
	p := &Plan{ResourceChanges: []*ResourceChange{
		{Address: "hardware.a", Action: NoOp, Before: secret, After: append(json.RawMessage(nil), secret...), SensitiveAttributes: []string{"bmc_password"}},
		{Address: "hardware.b", Action: Update, Before: secret, After: moved, SensitiveAttributes: []string{"bmc_password"}},
		{Address: "hardware.c", Action: NoOp, Before: moved, After: moved},
	}}
	r := Redact(p)
	for i, want := range [][2]string{
		{`{"bmc_password":"(sensitive)","rack":"r1"}`, `{"bmc_password":"(sensitive)","rack":"r1"}`},
		{`{"bmc_password":"(sensitive)","rack":"r1"}`, `{"bmc_password":"(sensitive)","rack":"r2"}`},
		{string(moved), string(moved)},
	} {
		rc := r.ResourceChanges[i]
		if string(rc.Before) != want[0] || string(rc.After) != want[1] {
			t.Errorf("%s: before %s after %s, want %s and %s", rc.Address, rc.Before, rc.After, want[0], want[1])
		}
	}
	if string(p.ResourceChanges[0].After) != string(secret) || string(p.ResourceChanges[1].Before) != string(secret) {
		t.Error("Redact changed the plan it was given")
	}
	// Redacted again, the same changes give the same copies; other changes, their own.
	if again := Redact(p); !sameChanges(again.ResourceChanges, r.ResourceChanges) {
		t.Error("a second Redact of the same changes redacted them again")
	}
	p.ResourceChanges = p.ResourceChanges[1:]
	if again := Redact(p); len(again.ResourceChanges) != 2 || string(again.ResourceChanges[0].After) != `{"bmc_password":"(sensitive)","rack":"r2"}` {
		t.Errorf("after the changes were replaced, Redact gave %d changes, the first after %s", len(again.ResourceChanges), again.ResourceChanges[0].After)
	}
}

// What follows a malformed object's end does not stop its secrets being hidden.
func TestRedactAttrs_trailing(t *testing.T) {
	for in, want := range map[string]string{
		`{"bmc_password":"s3cret"} {"x":1}`:     `{"bmc_password":"(sensitive)"} {"x":1}`,
		`{"bmc_password":"s3cret","rack":"r",}`: `{"bmc_password":"(sensitive)","rack":"r",}`,
	} {
		if got := string(redactAttrs(json.RawMessage(in), []string{"bmc_password"})); got != want {
			t.Errorf("redactAttrs(%s) = %s, want %s", in, got, want)
		}
	}
}

// A large plan is redacted on every core, with the same result as one pass.
func TestRedact_large(t *testing.T) {
	n := 2*redactChunk + 5
	p := &Plan{ResourceChanges: make([]*ResourceChange, n)}
	for i := range n {
		attrs := json.RawMessage(fmt.Sprintf(`{"bmc_password":"pw%d","rack":"r%d"}`, i, i))
		rc := &ResourceChange{Address: fmt.Sprintf("hardware.a[%d]", i), Action: NoOp, Before: attrs, After: attrs}
		if i%3 == 0 {
			rc.SensitiveAttributes = []string{"bmc_password"}
		}
		p.ResourceChanges[i] = rc
	}
	want := make([]*ResourceChange, n)
	redactRange(p.ResourceChanges, want)
	got := Redact(p).ResourceChanges
	for i := range n {
		if string(got[i].After) != string(want[i].After) || string(got[i].Before) != string(want[i].Before) {
			t.Fatalf("change %d: %s, want %s", i, got[i].After, want[i].After)
		}
		if secret := i%3 == 0; secret == strings.Contains(string(got[i].After), "pw") {
			t.Fatalf("change %d: after %s", i, got[i].After)
		}
	}
}
