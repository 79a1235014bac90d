package policies

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestDecodeInput_sameAsOPA(t *testing.T) {
	docs := map[string][]byte{
		"synth":   synthPlan(20),
		"escapes": []byte(`{"a": "x\"y\\u00e9\n", "b": [1, -2.5e+3, 0, 1E2, true, false, null, {}, []], "c": {"d": {"e": "é"}}, "k\u0041": "\ud83d\ude00"}`),
		"scalar":  []byte(` 12 `),
		"deep escapes": []byte(`{"resource_changes": [{"after": {"s": "a\\", "t": "q\"uo}te\\\"", "u": ["\\", "]"]}},
			{"after": {"s": "a\\", "t": "q\"uo}te\\\"", "u": ["\\", "]"]}}, {"after": {"s": "b"}}]}`),
	}
	// Above parallelArrayBytes, resource_changes is decoded on every core.
	if big := synthPlan(7500); len(big) > parallelArrayBytes {
		docs["large, decoded in parallel"] = big
	} else {
		t.Fatalf("synthPlan(7500) is %d bytes, under parallelArrayBytes", len(big))
	}
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
	}
}

// A syntax error deep in a large resource_changes array is reported where it is, as
// the one-pass decode reports it.
func TestDecodeInput_largeArrayError(t *testing.T) {
	doc := synthPlan(7500)
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
		`[{"a": {"b": {"c": {"d": "\u00e9\\"}}}}]`, `"\ud800"`, `-0.0e-0`, `{"a":}`, `[1,]`, `{"a" 1}`, "\"\xff\"", `{{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeInput(data)
		want, werr := ast.ValueFromReader(bytes.NewReader(data))
		if err == nil && werr == nil && want.Compare(got) != 0 {
			t.Errorf("decodeInput(%q) = %v, OPA reads %v", data, got, want)
		}
	})
}
