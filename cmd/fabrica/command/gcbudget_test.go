package command

import (
	"testing"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/internal/gcpace"
)

func TestGCBudget(t *testing.T) {
	root := NewRoot(&views.Streams{})
	for _, c := range []struct {
		args []string
		want uint64
	}{
		{[]string{"plan"}, gcpace.Large},
		{[]string{"-C", "dir", "plan", "--out", "p.plan"}, gcpace.Large},
		{[]string{"--no-color", "apply", "--auto-approve"}, gcpace.Large},
		{[]string{"destroy", "--auto-approve"}, gcpace.Large},
		{[]string{"policy", "check", "-C", "dir"}, gcpace.Large},
		{[]string{"policy", "test"}, gcpace.Default},
		{[]string{"validate"}, gcpace.Validate},
		{[]string{"-C", "plan", "validate", "--json"}, gcpace.Validate},
		{[]string{"show", "--json"}, gcpace.Default},
		{[]string{"no-such-command"}, gcpace.Default},
		{nil, gcpace.Default},
	} {
		if got := gcBudget(root, c.args); got != c.want {
			t.Errorf("gcBudget(%q) = %d, want %d", c.args, got, c.want)
		}
	}
}
