package views

import (
	"fmt"
	"io"

	"github.com/fabrica-iac/fabrica/policies"
)

// PolicyTests prints each failed test with where it failed, and a count line.
func PolicyTests(w io.Writer, rep *policies.TestReport) {
	for _, r := range rep.Results {
		switch r.Status {
		case policies.TestPass, policies.TestSkip:
			continue
		}
		fmt.Fprintf(w, "%s: %s.%s (%s:%d)\n", r.Status, r.Package, r.Name, r.File, r.Line)
		if r.FailedAt != "" {
			fmt.Fprintf(w, "  failed at %s\n", r.FailedAt)
		}
		if r.Message != "" {
			fmt.Fprintf(w, "  %s\n", r.Message)
		}
	}
	c := rep.Counts()
	fmt.Fprintf(w, "%d passed, %d failed\n", c.Pass, c.Fail+c.Error)
}
