package addrs

import "testing"

func TestParseInstance_roundTrip(t *testing.T) {
	for _, s := range []string{`hardware.gpu`, `hardware.gpu[3]`, `fabric.ib["east"]`, `fabric.ib["a.b[c]"]`} {
		t.Run(s, func(t *testing.T) {
			got, err := ParseInstance(s)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != s {
				t.Errorf("round trip: got %q, want %q", got.String(), s)
			}
		})
	}
}

func TestParseInstance_invalid(t *testing.T) {
	for _, s := range []string{``, `hardware`, `hardware.`, `.x`, `a.b.c`, `a.b[`, `a.b[-1]`, `a.b[x]`, `a.b["x]`} {
		t.Run(s, func(t *testing.T) {
			if _, err := ParseInstance(s); err == nil {
				t.Errorf("ParseInstance(%q) succeeded, want an error", s)
			}
		})
	}
}
