package command

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/statefile"
	"github.com/spf13/cobra"
)

func newStateCmd(streams *views.Streams, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "state", Short: "Inspect and change the state"}
	cmd.AddCommand(
		&cobra.Command{Use: "list", Short: "List the instances in state", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withState(cmd.Context(), streams, g, "", func(st *states.State, _ states.Backend) error {
					for _, a := range st.Addresses() {
						fmt.Fprintln(streams.Out, a)
					}
					return nil
				})
			}},
		&cobra.Command{Use: "show ADDR", Short: "Show one instance in state", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withState(cmd.Context(), streams, g, "", func(st *states.State, _ states.Backend) error {
					inst := st.Get(args[0])
					if inst == nil {
						return fmt.Errorf("no instance %s in state (fabrica state list shows what is there)", args[0])
					}
					views.StateInstance(streams.Out, inst)
					return nil
				})
			}},
		&cobra.Command{Use: "rm ADDR...", Short: "Forget instances (the real objects are left alone)", Args: cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withState(cmd.Context(), streams, g, "state rm", func(st *states.State, b states.Backend) error {
					for _, a := range args {
						if err := st.Remove(a); err != nil {
							return err
						}
					}
					if err := b.Persist(cmd.Context(), st); err != nil {
						return err
					}
					fmt.Fprintf(streams.Out, "Removed %d instance(s) from state.\n", len(args))
					return nil
				})
			}},
		&cobra.Command{Use: "mv FROM TO", Short: "Rename an instance in state", Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withState(cmd.Context(), streams, g, "state mv", func(st *states.State, b states.Backend) error {
					if err := st.Move(args[0], args[1]); err != nil {
						return err
					}
					if err := b.Persist(cmd.Context(), st); err != nil {
						return err
					}
					fmt.Fprintf(streams.Out, "Moved %s to %s.\n", args[0], args[1])
					return nil
				})
			}},
		&cobra.Command{Use: "pull", Short: "Print the state document", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withState(cmd.Context(), streams, g, "", func(st *states.State, _ states.Backend) error {
					return statefile.Write(streams.Out, st)
				})
			}},
		newStatePushCmd(streams, g),
	)
	return cmd
}

func newStatePushCmd(streams *views.Streams, g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{Use: "push FILE", Short: "Replace the state with a state document (- for stdin)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var data []byte
			var err error
			if args[0] == "-" {
				var buf bytes.Buffer
				_, err = buf.ReadFrom(streams.In)
				data = buf.Bytes()
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			incoming, err := statefile.Parse(data)
			if err != nil {
				return fmt.Errorf("%s is not a valid state document: %w", args[0], err)
			}
			return withState(cmd.Context(), streams, g, "state push", func(_ *states.State, b states.Backend) error {
				if err := b.Push(cmd.Context(), incoming, force); err != nil {
					return err
				}
				fmt.Fprintln(streams.Out, "State pushed.")
				return nil
			})
		}}
	cmd.Flags().BoolVar(&force, "force", false, "push even another lineage or an older serial")
	return cmd
}

// withState opens the backend, locks it when op names a writing operation, loads the
// state and calls fn.
func withState(ctx context.Context, streams *views.Streams, g *globals, op string, fn func(*states.State, states.Backend) error) error {
	p, diags := openProject(streams, g)
	if diags.HasErrors() {
		return exitCode(reportDiags(streams, p, diags, false))
	}
	if op != "" {
		unlock, err := lockState(ctx, p.backend, op, 0)
		if err != nil {
			return err
		}
		defer unlock()
	}
	st, err := p.backend.Load(ctx)
	if err != nil {
		return err
	}
	return fn(st, p.backend)
}

func newForceUnlockCmd(streams *views.Streams, g *globals) *cobra.Command {
	return &cobra.Command{Use: "force-unlock LOCK_ID", Short: "Release a state lock whose holder died", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, diags := openProject(streams, g)
			if diags.HasErrors() {
				return exitCode(reportDiags(streams, p, diags, false))
			}
			if err := p.backend.ForceUnlock(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "The state lock %s has been released.\n", args[0])
			return nil
		}}
}

func newOutputCmd(streams *views.Streams, g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "output [NAME]", Short: "Show output values from the state", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withState(cmd.Context(), streams, g, "", func(st *states.State, _ states.Backend) error {
				if len(args) == 1 {
					v, ok := st.Outputs[args[0]]
					if !ok {
						return fmt.Errorf("no output named %q in state (outputs are recorded by apply)", args[0])
					}
					fmt.Fprintln(streams.Out, views.OutputValue(v, asJSON))
					return nil
				}
				if asJSON {
					b, _ := json.MarshalIndent(st.Outputs, "", "  ")
					fmt.Fprintln(streams.Out, string(b))
					return nil
				}
				views.Outputs(streams.Out, st.Outputs)
				return nil
			})
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
