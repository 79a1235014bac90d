// Package command holds fabrica's cobra commands. Each verb lives in its own file: it
// parses flags into an options struct, makes one library call, renders the result with
// views, and returns an exit code.
package command

import (
	"context"
	"errors"
	"fmt"
	"github.com/fabrica-iac/fabrica/internal/gcpace"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/spf13/cobra"
)

// Exit codes (DESIGN.md §4).
const (
	ExitOK      = 0
	ExitError   = 1
	ExitChanges = 2
	ExitPolicy  = 3
)

// Version is the fabrica version (schema.Version, which release builds set).
var Version = schema.Version

// globals are the flags every command has.
type globals struct {
	dir           string
	noColor       bool
	backendConfig []string
}

// exitError carries an exit code out of a command's RunE.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// SystemStreams returns the process's standard streams.
func SystemStreams() *views.Streams { return views.System() }

// Main runs fabrica with args and returns the process exit code.
func Main(args []string, streams *views.Streams) int {
	// FABRICA_CPUPROFILE=FILE writes a CPU profile, for performance work.
	if path := lookupEnv(environ(streams), "FABRICA_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	// FABRICA_MEMPROFILE=FILE writes an allocation profile when the command ends.
	if path := lookupEnv(environ(streams), "FABRICA_MEMPROFILE"); path != "" {
		defer func() {
			if f, err := os.Create(path); err == nil {
				runtime.GC() // the profile counts what the last collection saw
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	root := NewRoot(streams)
	root.SetArgs(args)
	// Collect garbage less often while the heap is small (see internal/gcpace), unless
	// the user sets Go's own GC settings (read by the runtime from the process's
	// environment). The setting is the process's: Main is not run twice at once.
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		defer gcpace.Start(gcBudget(root, args))()
	}
	err := root.Execute()
	var ee exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintf(streams.Err, "Error: %s\n", err)
		return ExitError
	}
}

// gcBudget is the heap budget of the command args name: plan, apply, destroy (an apply
// of a destroy plan) and policy check (which makes a plan unless given one) hold the
// most; validate holds only the configuration (see gcpace.Validate).
func gcBudget(root *cobra.Command, args []string) uint64 {
	cmd, _, err := root.Find(args)
	if err != nil {
		return gcpace.Default
	}
	switch cmd.CommandPath() {
	case "fabrica plan", "fabrica apply", "fabrica destroy", "fabrica policy check":
		return gcpace.Large
	case "fabrica validate":
		return gcpace.Validate
	}
	return gcpace.Default
}

// NewRoot builds the command tree.
func NewRoot(streams *views.Streams) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "fabrica",
		Short: "Infrastructure as code for AI datacenters",
		Long: `fabrica declares AI datacenters in HCL: facilities, hardware, network fabrics,
storage, training clusters and jobs, and disaster-recovery sites. It works out the
physical consequences (power, cooling, switches, usable capacity, GPU memory, recovery
times) before anything is built.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.noColor {
				streams.Color = false
			}
			return nil
		},
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.SetIn(streams.In)
	root.PersistentFlags().StringVarP(&g.dir, "chdir", "C", ".", "run as if fabrica was started in `DIR`")
	root.PersistentFlags().BoolVar(&g.noColor, "no-color", false, "disable colour in output")
	root.PersistentFlags().StringArrayVar(&g.backendConfig, "backend-config", nil, "set a backend argument (`KEY=VALUE`, e.g. conn_str=...; repeatable)")
	root.AddCommand(
		newVersionCmd(streams),
		newValidateCmd(streams, g),
		newFmtCmd(streams, g),
		newInitCmd(streams, g),
		newPlanCmd(streams, g),
		newApplyCmd(streams, g, false),
		newApplyCmd(streams, g, true),
		newShowCmd(streams, g),
		newOutputCmd(streams, g),
		newStateCmd(streams, g),
		newForceUnlockCmd(streams, g),
		newImportCmd(streams, g),
		newGraphCmd(streams, g),
		newProvidersCmd(streams, g),
		newSimCmd(streams, g),
		newJobsCmd(streams, g),
		newPolicyCmd(streams, g),
		newWorkspaceCmd(streams, g),
		newLogsCmd(streams, g),
	)
	return root
}

func newVersionCmd(streams *views.Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the fabrica version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintf(streams.Out, "fabrica v%s\n", Version)
		},
	}
}

// environ returns the streams' environment, or the process's.
func environ(s *views.Streams) []string {
	if s.Env != nil {
		return s.Env
	}
	return os.Environ()
}

// cmdContext is the context of commands that have no signal handling of their own.
func cmdContext() context.Context { return context.Background() }
