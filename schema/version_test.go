package schema

import "testing"

func TestCheckVersionConstraint(t *testing.T) {
	for _, tc := range []struct {
		constraint, version string
		want                bool
	}{
		{">= 0.1", "0.1.0", true},
		{">= 0.2", "0.1.5", false},
		{">= 0.1, < 1.0", "0.9.9", true},
		{">= 0.1, < 1.0", "1.0.0", false},
		{"~> 0.1", "0.9.0", true},
		{"~> 0.1", "1.0.0", false},
		{"~> 0.1.2", "0.1.9", true},
		{"~> 0.1.2", "0.2.0", false},
		{"0.1.0", "0.1.0-dev", true},
		{"!= 0.1.0", "0.1.0", false},
	} {
		got, err := CheckVersionConstraint(tc.constraint, tc.version)
		if err != nil || got != tc.want {
			t.Errorf("CheckVersionConstraint(%q, %q) = %v, %v; want %v", tc.constraint, tc.version, got, err, tc.want)
		}
	}
	if _, err := CheckVersionConstraint(">= one", "0.1.0"); err == nil {
		t.Error("malformed constraint accepted")
	}
}
