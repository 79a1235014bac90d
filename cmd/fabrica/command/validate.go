package command

import (
	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/spf13/cobra"
)

// varFlags are --var and --var-file, shared by every command that evaluates.
type varFlags struct {
	vars     []string
	varFiles []string
}

func (v *varFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&v.vars, "var", nil, "set a variable (`NAME=VALUE`; repeatable)")
	cmd.Flags().StringArrayVar(&v.varFiles, "var-file", nil, "read variables from an HCL `FILE` (repeatable)")
}

func (v *varFlags) inputs(s *views.Streams) planner.InputVars {
	return planner.InputVars{Env: environ(s), VarFiles: v.varFiles, Vars: v.vars}
}

type validateOptions struct {
	json bool
	varFlags
}

func newValidateCmd(streams *views.Streams, g *globals) *cobra.Command {
	opts := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration and show its derived figures",
		Long: `Loads every *.fab.hcl and *.fab.json file in the directory, evaluates it without
calling any provider, checks every validation rule and prints, per facility, the figures
a reviewer wants: GPUs, racks, IT and facility load, fabric switches, usable storage.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return exitCode(runValidate(streams, g, opts))
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print one JSON document instead of text")
	opts.register(cmd)
	return cmd
}

func runValidate(streams *views.Streams, g *globals, opts *validateOptions) int {
	cfg, diags := schema.LoadDir(g.dir)
	var ev *planner.Evaluated
	if !diags.HasErrors() {
		var d = diags
		ev, d = planner.EvaluateForValidation(cfg, opts.inputs(streams))
		diags = diags.Append(d)
	}
	var sources map[string][]byte
	if cfg != nil {
		sources = cfg.Sources
	}
	if opts.json {
		views.ValidateJSON(streams.Out, ev, diags)
	} else {
		views.Diagnostics(streams.Err, diags, sources, streams.Color)
		if !diags.HasErrors() {
			views.ValidateSummary(streams.Out, ev, streams.Color)
		}
	}
	if diags.HasErrors() {
		return ExitError
	}
	return ExitOK
}

// exitCode turns a non-zero code into the error that carries it out of cobra.
func exitCode(code int) error {
	if code == ExitOK {
		return nil
	}
	return exitError{code: code}
}
