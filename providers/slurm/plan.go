package slurm

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Plan proposes each job's attributes after apply, by the rules every scheduler provider
// shares (launch.JobPlan). A new job is planned pending with the launch it will get
// (launch: layout, world size, the rendezvous rule, restarts, env, partition, time
// limit); job_id, slurm_job_id and log_dir are known after apply. A job whose arguments
// are unchanged and that is pending, running or succeeded keeps its attributes (a plan
// right after an apply is empty). A changed argument replaces the job, except wait and
// memory_per_gpu_gb, which change in place; a failed or cancelled job is replaced too
// (RequiresReplace "status"), and status_reason says why. Plan never calls Slurm.
func (p *provider) Plan(_ context.Context, req providers.PlanRequest) providers.PlanResponse {
	workDir, cfg, _, diags := p.configured()
	if diags != nil {
		return providers.PlanResponse{Diagnostics: diags}
	}
	changes := make([]providers.PlannedChange, len(req.Items))
	for i, it := range req.Items {
		changes[i] = planItem(workDir, cfg, it)
	}
	return providers.PlanResponse{Changes: changes}
}

func planItem(workDir string, cfg config, it providers.PlanItem) providers.PlannedChange {
	if it.Kind != Kind {
		return providers.PlannedChange{Address: it.Address, Diagnostics: []providers.Diagnostic{unsupportedKind(it.Kind)}}
	}
	return launch.JobPlan{
		WorkDir:  workDir,
		Computed: computed,
		InPlace:  inPlace,
		Unknown:  []string{attrJobID, attrSlurmJobID, attrLogDir},
		Warnings: launchWarnings,
		Launch:   func(_ string, spec launch.Spec) json.RawMessage { return launchSummary(cfg, spec) },
	}.Plan(it)
}

// launchSummary is the launch attribute: launch.Spec.Summary plus what Slurm is asked
// for. Before submission the rendezvous is the rule; after it, "(first node):PORT".
func launchSummary(cfg config, spec launch.Spec) json.RawMessage {
	m := spec.Summary()
	m["scheduler"] = Name
	if spec.MasterPort == 0 {
		m["rendezvous"] = fmt.Sprintf("(first node):%d + Slurm job id %% %d", PortBase, PortRange)
	}
	for k, v := range map[string]string{"partition": partition(cfg, spec), "account": cfg.Account} {
		if v != "" {
			m[k] = v
		}
	}
	if cfg.TimeLimit > 0 {
		m["time_limit"] = slurmTime(cfg.TimeLimit)
	}
	return rawJSON(m)
}

// resolveSpec makes the job's directories absolute (see launch.ResolveSpec).
var resolveSpec = launch.ResolveSpec

// launchWarnings are what Slurm will not do as configured: run an image (the provider
// runs the command directly, without a container plugin).
func launchWarnings(spec launch.Spec) []providers.Diagnostic {
	if spec.Image == "" {
		return nil
	}
	return []providers.Diagnostic{{Severity: providers.SeverityWarning, Attribute: "image", Summary: "Image ignored",
		Detail: fmt.Sprintf("The slurm provider runs the command directly on the allocated nodes; image %q is not used.", spec.Image)}}
}
