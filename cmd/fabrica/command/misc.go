package command

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/plugin"
	"github.com/fabrica-iac/fabrica/providers/sim"
	"github.com/spf13/cobra"
)

func newInitCmd(streams *views.Streams, g *globals) *cobra.Command {
	var migrate, force bool
	var fromConn string
	cmd := &cobra.Command{Use: "init", Short: "Find providers and prepare the state backend", Args: cobra.NoArgs,
		Long: "Checks the configuration loads, lists the providers it will use and where they come from, and prepares the state backend (the .fabrica directory for the local backend). It writes nothing else.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, diags := openProject(streams, g)
			defer p.close()
			if diags.HasErrors() {
				return exitCode(reportDiags(streams, p, diags, false))
			}
			if err := os.MkdirAll(fabricaDir(g.dir), 0o755); err != nil {
				return err
			}
			found, err := plugin.Discover(g.dir, lookupEnv(environ(streams), "FABRICA_PLUGIN_PATH"))
			if err != nil {
				return err
			}
			fmt.Fprintln(streams.Out, "Providers:")
			for _, n := range builtinNames() {
				fmt.Fprintf(streams.Out, "  %-10s built-in\n", n)
			}
			for _, f := range found {
				fmt.Fprintf(streams.Out, "  %-10s %s\n", f.Name, f.Path)
			}
			if lb, ok := p.backend.(interface{ Path() string }); ok {
				fmt.Fprintf(streams.Out, "\nState: local backend at %s (workspace %q)\n", lb.Path(), p.settings.workspace)
			} else {
				fmt.Fprintf(streams.Out, "\nState: %s backend (workspace %q)\n", p.settings.kind, p.settings.workspace)
			}
			if migrate {
				if err := migrateState(cmd.Context(), streams, p, force, fromConn); err != nil {
					return err
				}
			}
			if err := recordBackend(g.dir, p.settings); err != nil {
				return err
			}
			fmt.Fprintln(streams.Out, "\nfabrica is initialized. Run fabrica plan to see what would change.")
			return nil
		}}
	cmd.Flags().BoolVar(&migrate, "migrate-state", false, "move the state from the backend of the previous init to the configured one")
	cmd.Flags().BoolVar(&force, "force", false, "with --migrate-state: overwrite a target state of another lineage")
	cmd.Flags().StringVar(&fromConn, "from-conn-str", "", "with --migrate-state from pg: the previous backend's connection string")
	return cmd
}

func newShowCmd(streams *views.Streams, g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "show [PLANFILE]", Short: "Show the state, or a saved plan", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				pl, err := plans.ReadFile(args[0], keyringOf(g, streams))
				if err != nil {
					return err
				}
				pl = plans.Redact(pl)
				if asJSON {
					return views.PlanJSON(streams.Out, pl)
				}
				views.PlanText(streams.Out, pl, streams.Color)
				return nil
			}
			return withState(cmd.Context(), streams, g, "", func(st *states.State, _ states.Backend) error {
				if st.Len() == 0 {
					fmt.Fprintln(streams.Out, "The state is empty.")
					return nil
				}
				for inst := range st.Instances() {
					views.StateInstance(streams.Out, inst)
					fmt.Fprintln(streams.Out)
				}
				return nil
			})
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan JSON (with a PLANFILE)")
	return cmd
}

func newImportCmd(streams *views.Streams, g *globals) *cobra.Command {
	f := &varFlags{}
	cmd := &cobra.Command{Use: "import ADDR ID", Short: "Adopt an existing object into state", Args: cobra.ExactArgs(2),
		Long: "Reads the object with the given provider ID and records it in state at ADDR, which must be declared in the configuration. The next plan shows what differs from the configuration.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitCode(runImport(cmd.Context(), streams, g, f, args[0], args[1]))
		}}
	f.register(cmd)
	return cmd
}

func runImport(ctx context.Context, streams *views.Streams, g *globals, f *varFlags, addr, id string) int {
	p, diags := openProject(streams, g)
	defer p.close()
	if !diags.HasErrors() {
		diags = diags.Append(p.evaluate(f.inputs(streams)))
	}
	if diags.HasErrors() {
		return reportDiags(streams, p, diags, false)
	}
	inst := p.ev.Instance(addr)
	if inst == nil {
		fmt.Fprintf(streams.Err, "Error: %s is not declared in the configuration; add the resource block first, then import into it.\n", addr)
		return ExitError
	}
	unlock, err := lockState(ctx, p.backend, "import", 0)
	if err != nil {
		return reportDiags(streams, p, diags.Append(stateError(err)), false)
	}
	defer unlock()
	st, err := p.backend.Load(ctx)
	if err != nil {
		return reportDiags(streams, p, diags.Append(stateError(err)), false)
	}
	if st.Get(addr) != nil {
		fmt.Fprintf(streams.Err, "Error: %s is already in state; remove it with fabrica state rm first to import another object.\n", addr)
		return ExitError
	}
	name := p.ev.ProviderFor(inst)
	prov, err := p.provs.Get(ctx, name)
	if err != nil {
		fmt.Fprintf(streams.Err, "Error: %s\n", err)
		return ExitError
	}
	resp := prov.Import(ctx, providers.ImportRequest{Kind: inst.Kind(), ID: id})
	if providers.HasErrors(resp.Diagnostics) {
		d := resp.Diagnostics[0]
		fmt.Fprintf(streams.Err, "Error: %s\n\n%s\n", d.Summary, d.Detail)
		return ExitError
	}
	st.Put(&states.Instance{Address: addr, Kind: inst.Kind(), Provider: name, ID: id, Attrs: resp.Attrs,
		AttrsHash: providers.AttrsHash(resp.Attrs), Sensitive: p.provs.DeclaredSensitive(name, inst.Kind())})
	if err := p.backend.Persist(ctx, st); err != nil {
		fmt.Fprintf(streams.Err, "Error: %s\n", err)
		return ExitError
	}
	fmt.Fprintf(streams.Out, "Imported %s as %s. Run fabrica plan to compare it with the configuration.\n", id, addr)
	return ExitOK
}

func newGraphCmd(streams *views.Streams, g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{Use: "graph", Short: "Print the dependency graph of the resources", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "dot" && format != "mermaid" {
				return fmt.Errorf("--format must be dot or mermaid, not %q", format)
			}
			p, diags := openProject(streams, g)
			if !diags.HasErrors() {
				var d = diags
				p.ev, d = planner.Evaluate(p.cfg, planner.InputVars{Env: environ(streams)})
				diags = diags.Append(d)
			}
			if diags.HasErrors() {
				return exitCode(reportDiags(streams, p, diags, false))
			}
			views.Graph(streams.Out, p.ev.ResourceGraph(), format)
			return nil
		}}
	cmd.Flags().StringVar(&format, "format", "dot", "dot or mermaid")
	return cmd
}

func newProvidersCmd(streams *views.Streams, g *globals) *cobra.Command {
	return &cobra.Command{Use: "providers", Short: "List the providers fabrica can use, with versions and kinds", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := newPluginSource(g.dir, environ(streams))
			if err != nil {
				return err
			}
			defer src.Close()
			names := builtinNames()
			for n := range src.external {
				if !contains(names, n) {
					names = append(names, n)
				}
			}
			sort.Strings(names)
			for _, n := range names {
				origin := "built-in"
				if path, ok := src.external[n]; ok {
					origin = path
				}
				prov, err := src.Start(cmd.Context(), n)
				if err != nil {
					fmt.Fprintf(streams.Out, "%-10s %-8s %s  (cannot start: %s)\n", n, "?", origin, err)
					continue
				}
				info, err := prov.Info(cmd.Context())
				if err != nil {
					fmt.Fprintf(streams.Out, "%-10s %-8s %s  (cannot describe: %s)\n", n, "?", origin, err)
					continue
				}
				fmt.Fprintf(streams.Out, "%-10s v%-7s %s  kinds: %s\n", n, info.Version, origin, strings.Join(info.Kinds, ", "))
				for _, kind := range slices.Sorted(maps.Keys(info.Sensitive)) {
					fmt.Fprintf(streams.Out, "%-19s sensitive (redacted): %s.%s\n", "", kind, strings.Join(info.Sensitive[kind], ", "+kind+"."))
				}
			}
			return nil
		}}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func newSimCmd(streams *views.Streams, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "sim", Short: "Change the sim provider's world out of band (to show and test drift)"}
	cmd.AddCommand(
		&cobra.Command{Use: "drift ADDR ATTR=VALUE", Short: "Change one attribute of a simulated object", Args: cobra.ExactArgs(2),
			RunE: func(_ *cobra.Command, args []string) error {
				attr, value, ok := strings.Cut(args[1], "=")
				if !ok || attr == "" {
					return fmt.Errorf("expected ATTR=VALUE, such as rack=r9, not %q", args[1])
				}
				if err := sim.Drift(g.dir, args[0], attr, value); err != nil {
					return err
				}
				fmt.Fprintf(streams.Out, "Changed %s of %s in the simulated world.\n", attr, args[0])
				return nil
			}},
		&cobra.Command{Use: "remove ADDR", Short: "Delete a simulated object", Args: cobra.ExactArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				if err := sim.Remove(g.dir, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(streams.Out, "Removed %s from the simulated world.\n", args[0])
				return nil
			}},
	)
	return cmd
}
