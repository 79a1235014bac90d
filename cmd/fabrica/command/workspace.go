package command

import (
	"fmt"
	"os"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/spf13/cobra"
)

func newWorkspaceCmd(streams *views.Streams, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "workspace", Short: "Manage workspaces: several states per configuration (e.g. staging and production)"}
	with := func(fn func(p *project, args []string) error) func(*cobra.Command, []string) error {
		return func(_ *cobra.Command, args []string) error {
			p, diags := openProject(streams, g)
			defer p.close()
			if diags.HasErrors() {
				return exitCode(reportDiags(streams, p, diags, false))
			}
			return fn(p, args)
		}
	}
	var force bool
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a workspace and its state", Args: cobra.ExactArgs(1),
		RunE: with(func(p *project, args []string) error {
			if args[0] == p.settings.workspace {
				return fmt.Errorf("workspace %q is selected; select another one first (fabrica workspace select default)", args[0])
			}
			if err := p.workspaces.Delete(cmdContext(), args[0], force); err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "Deleted workspace %q.\n", args[0])
			return nil
		})}
	del.Flags().BoolVar(&force, "force", false, "delete even a workspace whose state still holds instances (they are forgotten, not destroyed)")
	cmd.AddCommand(
		&cobra.Command{Use: "list", Short: "List workspaces; * marks the selected one", Args: cobra.NoArgs,
			RunE: with(func(p *project, _ []string) error {
				names, err := p.workspaces.List(cmdContext())
				if err != nil {
					return err
				}
				for _, n := range names {
					mark := " "
					if n == p.settings.workspace {
						mark = "*"
					}
					fmt.Fprintf(streams.Out, "%s %s\n", mark, n)
				}
				return nil
			})},
		&cobra.Command{Use: "show", Short: "Print the selected workspace", Args: cobra.NoArgs,
			RunE: with(func(p *project, _ []string) error {
				fmt.Fprintln(streams.Out, p.settings.workspace)
				return nil
			})},
		&cobra.Command{Use: "new NAME", Short: "Create a workspace and select it", Args: cobra.ExactArgs(1),
			RunE: with(func(p *project, args []string) error {
				if err := p.workspaces.Create(cmdContext(), args[0]); err != nil {
					return err
				}
				if err := selectWorkspace(g.dir, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(streams.Out, "Created and selected workspace %q; its state is empty.\n", args[0])
				return nil
			})},
		&cobra.Command{Use: "select NAME", Short: "Select a workspace", Args: cobra.ExactArgs(1),
			RunE: with(func(p *project, args []string) error {
				names, err := p.workspaces.List(cmdContext())
				if err != nil {
					return err
				}
				if !contains(names, args[0]) {
					return fmt.Errorf("there is no workspace %q (fabrica workspace list; create one with fabrica workspace new %s)", args[0], args[0])
				}
				if err := selectWorkspace(g.dir, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(streams.Out, "Switched to workspace %q.\n", args[0])
				return nil
			})},
		del,
	)
	return cmd
}

func selectWorkspace(dir, name string) error {
	if err := states.ValidateWorkspaceName(name); err != nil {
		return err
	}
	if err := os.MkdirAll(fabricaDir(dir), 0o755); err != nil {
		return err
	}
	return os.WriteFile(workspaceFile(dir), []byte(name+"\n"), 0o644)
}
