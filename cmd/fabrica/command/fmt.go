package command

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/fabrica-iac/fabrica/schema/format"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

// exitUnformatted is fmt --check's exit code when a file needs formatting, as terraform
// fmt -check.
const exitUnformatted = 3

type fmtOptions struct {
	check, diff, recursive bool
}

func newFmtCmd(streams *views.Streams, g *globals) *cobra.Command {
	opts := &fmtOptions{}
	cmd := &cobra.Command{
		Use:   "fmt [PATH...]",
		Short: "Rewrite *.fab.hcl files in the canonical format",
		Long: `Rewrites configuration files in the canonical layout (aligned equals signs, two-space
indentation, one trailing newline) and lists the files it changed. With --check it
writes nothing and exits 3 when a file needs formatting, for CI.`,
		RunE: func(_ *cobra.Command, args []string) error {
			return exitCode(runFmt(streams, g, opts, args))
		},
	}
	cmd.Flags().BoolVar(&opts.check, "check", false, "write nothing; exit 3 if any file needs formatting")
	cmd.Flags().BoolVar(&opts.diff, "diff", false, "show the changes as a unified diff")
	cmd.Flags().BoolVar(&opts.recursive, "recursive", false, "also format files in subdirectories")
	return cmd
}

func runFmt(streams *views.Streams, g *globals, opts *fmtOptions, args []string) int {
	paths := make([]string, 0, len(args))
	for _, a := range args {
		if !filepath.IsAbs(a) {
			a = filepath.Join(g.dir, a)
		}
		paths = append(paths, a)
	}
	if len(paths) == 0 {
		paths = []string{g.dir}
	}
	results, hd, err := format.Run(format.Options{
		Paths: paths, Recursive: opts.recursive, Check: opts.check, Diff: opts.diff, Write: !opts.check,
	})
	if err != nil {
		fmt.Fprintf(streams.Err, "Error: %s\n", err)
		return ExitError
	}
	for _, r := range results {
		fmt.Fprintln(streams.Out, r.Path)
		if opts.diff {
			fmt.Fprint(streams.Out, r.Diff)
		}
	}
	if len(hd) > 0 {
		views.Diagnostics(streams.Err, diag.Diagnostics{}.Append(hd), sourcesOf(hd), streams.Color)
		return ExitError
	}
	if opts.check && len(results) > 0 {
		return exitUnformatted
	}
	return ExitOK
}

// sourcesOf reads the files diagnostics point into, for their snippets.
func sourcesOf(hd hcl.Diagnostics) map[string][]byte {
	out := map[string][]byte{}
	for _, d := range hd {
		if d.Subject == nil {
			continue
		}
		if _, ok := out[d.Subject.Filename]; !ok {
			if src, err := os.ReadFile(d.Subject.Filename); err == nil {
				out[d.Subject.Filename] = src
			}
		}
	}
	return out
}
