package policies

import (
	"bytes"
	"os"
	"runtime"
	"testing"
	"time"

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
	if b, err := os.ReadFile("/tmp/sample-plan-superpod.json"); err == nil {
		docs["sample"] = b
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

func TestDecodeInput_speed(t *testing.T) {
	doc := synthPlan(100000)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	v, err := decodeInput(doc)
	d := time.Since(t0)
	runtime.ReadMemStats(&m1)
	t.Logf("%d MB in %v, alloc %d MB, err %v", len(doc)>>20, d, (m1.TotalAlloc-m0.TotalAlloc)>>20, err)
	runtime.KeepAlive(v)
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
