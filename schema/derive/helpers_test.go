package derive

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// approx compares floats within a relative tolerance, so tests can state
// the rounded figures domain.md publishes.
func approx(rel float64) cmp.Option {
	return cmp.Comparer(func(a, b float64) bool {
		return math.Abs(a-b) <= rel*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
	})
}

// exact tolerates only floating-point rounding.
var exact = approx(1e-9)

// wantErr describes an expected *InputError.
type wantErr struct {
	field    string
	kind     error  // sentinel for errors.Is; nil to skip
	contains string // a phrase the user must see
}

func checkInputErr(t *testing.T, err error, want wantErr) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v, want an *InputError", err)
	}
	if ie.Field != want.field {
		t.Errorf("Field = %q, want %q", ie.Field, want.field)
	}
	if want.kind != nil && !errors.Is(err, want.kind) {
		t.Errorf("errors.Is(err, %v) = false", want.kind)
	}
	if !strings.Contains(ie.Detail, want.contains) {
		t.Errorf("Detail = %q, want it to contain %q", ie.Detail, want.contains)
	}
	if ie.Error() != ie.Detail {
		t.Errorf("Error() = %q, want Detail", ie.Error())
	}
}
