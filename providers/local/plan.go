package local

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Plan proposes each job's attributes after apply, by the rules every scheduler provider
// shares (launch.JobPlan). A new job is planned pending with the
// launch it will get (launch: layout, world size, rendezvous, restarts, env); job_id and
// log_dir are known after apply. A job whose arguments are unchanged and that is pending,
// running or succeeded keeps its attributes (a plan right after an apply is empty). A
// changed argument replaces the job, except wait and memory_per_gpu_gb, which change in
// place; a failed or cancelled job is replaced too (RequiresReplace "status"), and
// status_reason says why.
func (p *provider) Plan(_ context.Context, req providers.PlanRequest) providers.PlanResponse {
	workDir, _, diags := p.configured()
	if diags != nil {
		return providers.PlanResponse{Diagnostics: diags}
	}
	changes := make([]providers.PlannedChange, len(req.Items))
	for i, it := range req.Items {
		changes[i] = planItem(workDir, it)
	}
	return providers.PlanResponse{Changes: changes}
}

func planItem(workDir string, it providers.PlanItem) providers.PlannedChange {
	if it.Kind != Kind {
		return providers.PlannedChange{Address: it.Address, Diagnostics: []providers.Diagnostic{unsupportedKind(it.Kind)}}
	}
	return launch.JobPlan{
		WorkDir:  workDir,
		Computed: computed,
		InPlace:  inPlace,
		Unknown:  []string{attrJobID, attrLogDir},
		Warnings: func(spec launch.Spec) []providers.Diagnostic { return launchWarnings(workDir, spec) },
		Launch: func(address string, spec launch.Spec) json.RawMessage {
			spec.MasterAddr, spec.MasterPort = masterAddr, launch.DefaultPort(address)
			return rawJSON(spec.Summary())
		},
	}.Plan(it)
}

// resolveSpec makes the job's directories absolute (see launch.ResolveSpec).
var resolveSpec = launch.ResolveSpec

// launchWarnings are what will not work as configured on this machine: an image (the
// local provider runs commands directly), a workdir that does not exist, a program that
// cannot be found.
func launchWarnings(workDir string, spec launch.Spec) []providers.Diagnostic {
	var diags []providers.Diagnostic
	warn := func(attr, summary, detail string) {
		diags = append(diags, providers.Diagnostic{Severity: providers.SeverityWarning, Summary: summary, Detail: detail, Attribute: attr})
	}
	if spec.Image != "" {
		warn("image", "Image ignored", fmt.Sprintf("The local scheduler runs the command directly on this machine; image %q is not used.", spec.Image))
	}
	if spec.Partition != "" {
		warn("partition", "Partition ignored", fmt.Sprintf("The local scheduler has no partitions; the cluster's partition %q is not used.", spec.Partition))
	}
	spec = resolveSpec(workDir, spec)
	if fi, err := os.Stat(spec.WorkDir); err != nil || !fi.IsDir() {
		warn("workdir", "Working directory not found", fmt.Sprintf("%s is not a directory on this machine; the job will fail unless it exists by apply.", spec.WorkDir))
		return diags
	}
	pathEnv := os.Getenv("PATH")
	if v, ok := spec.Env["PATH"]; ok {
		pathEnv = v
	}
	if _, err := resolveCommand(spec.Command[0], spec.WorkDir, pathEnv); err != nil {
		warn("command", "Command not found", fmt.Sprintf("%s is not an executable in %s or on $PATH here; the job will fail with exit code 127 unless it is there by apply.", spec.Command[0], spec.WorkDir))
	}
	return diags
}
