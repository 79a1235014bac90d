package format

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

func TestSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "misaligned attributes get aligned",
			in:   "name = \"web\"\ninstance_count = 2\nx=1\n",
			want: "name           = \"web\"\ninstance_count = 2\nx              = 1\n",
		},
		{
			name: "already formatted is unchanged",
			in:   "resource \"server\" \"web\" {\n  name  = \"web\"\n  count = 2\n}\n",
			want: "resource \"server\" \"web\" {\n  name  = \"web\"\n  count = 2\n}\n",
		},
		{
			name: "indentation fixed in nested blocks",
			in:   "a {\nb {\nc = 1\n}\n}\n",
			want: "a {\n  b {\n    c = 1\n  }\n}\n",
		},
		{
			name: "CRLF becomes LF",
			in:   "a = 1\r\nbb = 2\r\n",
			want: "a  = 1\nbb = 2\n",
		},
		{
			name: "missing final newline added",
			in:   "a = 1",
			want: "a = 1\n",
		},
		{
			name: "trailing blank lines trimmed",
			in:   "a = 1\n\n\n  \n",
			want: "a = 1\n",
		},
		{
			name: "inner blank lines kept",
			in:   "a = 1\n\n\nb = 2\n",
			want: "a = 1\n\n\nb = 2\n",
		},
		{
			name: "comments aligned",
			in:   "a = 1 # one\nbbb = 2 # two\n",
			want: "a   = 1 # one\nbbb = 2 # two\n",
		},
		{
			name: "heredoc content kept",
			in:   "x {\ny = <<EOT\n  keep   this\nEOT\n}\n",
			want: "x {\n  y = <<EOT\n  keep   this\nEOT\n}\n",
		},
		{
			name: "empty file stays empty",
			in:   "",
			want: "",
		},
		{
			name: "only blank lines become empty",
			in:   "\n\n",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, diags := Source([]byte(tt.in), "test.fab.hcl")
			if diags.HasErrors() {
				t.Fatalf("Source: unexpected diagnostics: %s", diags.Error())
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Source mismatch (-want +got):\n%s", diff)
			}
			again, _ := Source(got, "test.fab.hcl")
			if diff := cmp.Diff(string(got), string(again)); diff != "" {
				t.Errorf("Source is not idempotent (-first +second):\n%s", diff)
			}
		})
	}
}

func TestSourceSyntaxError(t *testing.T) {
	t.Parallel()
	in := "a = 1\r\nb {\r\n  c = \r\n}\r\n"
	got, diags := Source([]byte(in), "bad.fab.hcl")
	if !diags.HasErrors() {
		t.Fatalf("Source: no error diagnostics for %q", in)
	}
	if string(got) != in {
		t.Errorf("Source changed a file that does not parse: got %q", got)
	}
	subj := diags[0].Subject
	if subj == nil {
		t.Fatalf("diagnostic has no subject: %s", diags[0].Error())
	}
	type where struct {
		File      string
		Line, Col int
	}
	want := where{"bad.fab.hcl", 3, 7}
	if diff := cmp.Diff(want, where{subj.Filename, subj.Start.Line, subj.Start.Column}); diff != "" {
		t.Errorf("diagnostic range mismatch (-want +got):\n%s\n%s", diff, diags.Error())
	}
	if diags[0].Severity != hcl.DiagError {
		t.Errorf("severity = %v, want error", diags[0].Severity)
	}
}
