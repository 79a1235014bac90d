package derive

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped by InputError so callers can tell classes of
// problem apart with errors.Is.
var (
	// ErrNeedThreeTier means a two-tier fabric cannot connect the endpoints.
	ErrNeedThreeTier = errors.New("fabric needs three tiers")
	// ErrFabricTooLarge means even a three-tier fat tree of the radix is too small.
	ErrFabricTooLarge = errors.New("fabric exceeds three tiers")
	// ErrTooFewFailureDomains means a storage cluster cannot place every
	// replica or chunk in its own failure domain.
	ErrTooFewFailureDomains = errors.New("too few failure domains")
)

// InputError reports a problem in the figures a user wrote. Field names the
// attribute at fault, spelled as in DESIGN.md §3 (for example "switch_radix"
// or "protection"), so the caller can attach the right source range; it is
// empty when no single attribute is at fault. Detail is
// written for the user: full sentences saying what is wrong and how to fix it.
type InputError struct {
	Field  string
	Detail string
	kind   error
}

// Error returns Detail.
func (e *InputError) Error() string { return e.Detail }

// Unwrap returns the sentinel error, if any, so errors.Is works.
func (e *InputError) Unwrap() error { return e.kind }

func inputErr(field string, kind error, format string, args ...any) *InputError {
	return &InputError{Field: field, Detail: fmt.Sprintf(format, args...), kind: kind}
}

// ceilDiv returns ⌈a/b⌉ for a ≥ 0 and b > 0.
func ceilDiv(a, b int) int {
	return (a + b - 1) / b
}
