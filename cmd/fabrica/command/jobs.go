package command

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/spf13/cobra"
)

// finalStatuses are job statuses that no longer change.
var finalStatuses = map[string]bool{"succeeded": true, "failed": true, "cancelled": true}

func newJobsCmd(streams *views.Streams, g *globals) *cobra.Command {
	f := &varFlags{}
	cmd := &cobra.Command{Use: "jobs", Short: "List training jobs with their status, scheduler id and age", Args: cobra.NoArgs,
		Long: "Reads every training_job in state from its scheduler (one batch per provider) and lists its status as the scheduler reports it now.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, st, err := openJobs(cmd.Context(), streams, g, f)
			if err != nil {
				return err
			}
			defer p.close()
			jobs := refreshJobs(cmd.Context(), p, st)
			views.Jobs(streams.Out, jobs, time.Now())
			return nil
		}}
	f.register(cmd)
	return cmd
}

// openJobs opens the project with its providers, and the state.
func openJobs(ctx context.Context, streams *views.Streams, g *globals, f *varFlags) (*project, *states.State, error) {
	p, diags := openProject(streams, g)
	if !diags.HasErrors() {
		diags = diags.Append(p.evaluate(f.inputs(streams)))
	}
	if diags.HasErrors() {
		p.close()
		return nil, nil, exitCode(reportDiags(streams, p, diags, false))
	}
	st, err := p.backend.Load(ctx)
	if err != nil {
		p.close()
		return nil, nil, err
	}
	return p, st, nil
}

// refreshJobs reads the training jobs in state from their providers.
func refreshJobs(ctx context.Context, p *project, st *states.State) []views.Job {
	byProvider := map[string][]*states.Instance{}
	for inst := range st.Instances() {
		if inst.Kind == schema.KindTrainingJob {
			byProvider[inst.Provider] = append(byProvider[inst.Provider], inst)
		}
	}
	var out []views.Job
	for name, insts := range byProvider {
		items := make([]providers.ReadItem, len(insts))
		for i, inst := range insts {
			items[i] = providers.ReadItem{Address: inst.Address, Kind: inst.Kind, ID: inst.ID}
		}
		var results []providers.ReadResult
		if prov, err := p.provs.Get(ctx, name); err == nil {
			results = prov.Read(ctx, providers.ReadRequest{Items: items}).Results
		}
		for i, inst := range insts {
			j := views.Job{Address: inst.Address, Provider: name, ID: inst.ID, Attrs: inst.Attrs}
			if i < len(results) {
				switch r := results[i]; {
				case r.Gone:
					j.Gone = true
				case r.Attrs != nil:
					j.Attrs = r.Attrs
				}
			}
			out = append(out, j)
		}
	}
	sort.Slice(out, func(i, k int) bool { return states.CompareAddresses(out[i].Address, out[k].Address) < 0 })
	return out
}

type logsOptions struct {
	varFlags
	rank   int
	follow bool
}

func newLogsCmd(streams *views.Streams, g *globals) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{Use: "logs ADDR", Short: "Show a training job's output (one rank)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogs(cmd.Context(), streams, g, o, args[0])
		}}
	cmd.Flags().IntVar(&o.rank, "rank", 0, "which rank's output")
	cmd.Flags().BoolVarP(&o.follow, "follow", "f", false, "keep printing new output until the job ends")
	o.register(cmd)
	return cmd
}

func runLogs(ctx context.Context, streams *views.Streams, g *globals, o *logsOptions, addr string) error {
	p, st, err := openJobs(ctx, streams, g, &o.varFlags)
	if err != nil {
		return err
	}
	defer p.close()
	inst := st.Get(addr)
	if inst == nil || inst.Kind != schema.KindTrainingJob {
		return fmt.Errorf("%s is not a training job in state (fabrica jobs lists them)", addr)
	}
	var attrs struct {
		LogDir    string `json:"log_dir"`
		WorldSize int    `json:"world_size"`
	}
	_ = json.Unmarshal(inst.Attrs, &attrs)
	if attrs.LogDir == "" {
		return fmt.Errorf("%s has no log directory recorded; its provider %q does not keep logs fabrica can read", addr, inst.Provider)
	}
	if o.rank < 0 || (attrs.WorldSize > 0 && o.rank >= attrs.WorldSize) {
		return fmt.Errorf("--rank %d is out of range: %s has ranks 0 to %d", o.rank, addr, attrs.WorldSize-1)
	}
	path := filepath.Join(attrs.LogDir, "rank-"+strconv.Itoa(o.rank)+".log")
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("no output for rank %d of %s yet (%s)", o.rank, addr, err)
	}
	defer f.Close()
	if _, err := io.Copy(streams.Out, f); err != nil || !o.follow {
		return err
	}
	return followLog(ctx, streams, p, inst, f)
}

// followLog prints what is appended to f until the job reaches a final status and the
// file stops growing, or ctx ends (Ctrl-C detaches; the job keeps running).
func followLog(ctx context.Context, streams *views.Streams, p *project, inst *states.Instance, f *os.File) error {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		n, _ := io.Copy(streams.Out, f)
		if n > 0 {
			continue
		}
		if status := jobStatus(ctx, p, inst); finalStatuses[status] || status == "" {
			_, _ = io.Copy(streams.Out, f)
			return nil
		}
	}
}

func jobStatus(ctx context.Context, p *project, inst *states.Instance) string {
	prov, err := p.provs.Get(ctx, inst.Provider)
	if err != nil {
		return ""
	}
	res := prov.Read(ctx, providers.ReadRequest{Items: []providers.ReadItem{{Address: inst.Address, Kind: inst.Kind, ID: inst.ID}}}).Results
	if len(res) != 1 || res[0].Gone {
		return ""
	}
	attrs := res[0].Attrs
	if attrs == nil {
		attrs = inst.Attrs
	}
	var a struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(attrs, &a)
	return a.Status
}
