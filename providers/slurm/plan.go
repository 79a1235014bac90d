package slurm

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Plan proposes each job's attributes after apply, as the local provider does. A new job
// is planned pending with the launch it will get (launch: layout, world size, the
// rendezvous rule, restarts, env, partition, time limit); job_id, slurm_job_id and
// log_dir are known after apply. A job whose arguments are unchanged and that is pending,
// running or succeeded keeps its attributes (a plan right after an apply is empty). A
// changed argument replaces the job, except wait and memory_per_gpu_gb, which change in
// place; a failed or cancelled job is replaced too (RequiresReplace "status"), and
// status_reason says why. Plan never calls Slurm.
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
	pc := providers.PlannedChange{Address: it.Address}
	if it.Kind != Kind {
		pc.Diagnostics = []providers.Diagnostic{unsupportedKind(it.Kind)}
		return pc
	}
	if it.Desired == nil {
		return pc // delete: the job is cancelled
	}
	desired, err := decodeObject(it.Desired)
	if err != nil {
		pc.Diagnostics = []providers.Diagnostic{providers.Errorf("", "Invalid desired attributes", err.Error())}
		return pc
	}
	spec, diags := launch.SpecFromAttrs(it.Desired)
	pc.Diagnostics = diags
	if providers.HasErrors(diags) {
		return pc
	}
	if it.Prior == nil {
		pc.Diagnostics = append(pc.Diagnostics, launchWarnings(spec)...)
		return planCreate(pc, workDir, cfg, desired, spec, "")
	}
	prior, err := decodeObject(it.Prior)
	if err != nil {
		pc.Diagnostics = append(pc.Diagnostics, providers.Errorf("", "Invalid prior attributes", err.Error()))
		return pc
	}
	changed := changedArgs(prior, desired)
	replace := slices.DeleteFunc(slices.Clone(changed), func(k string) bool { return inPlace[k] })
	if status := stringAttr(prior, attrStatus); status == StatusFailed || status == StatusCancelled {
		replace = append(replace, attrStatus)
	}
	switch {
	case len(replace) > 0:
		pc.Diagnostics = append(pc.Diagnostics, launchWarnings(spec)...)
		pc = planCreate(pc, workDir, cfg, desired, spec, replaceReason(prior, replace))
		pc.RequiresReplace = replace
	case len(changed) == 0:
		pc.Planned = it.Prior
	default: // only in-place arguments changed
		for _, k := range changed {
			if v, ok := desired[k]; ok {
				prior[k] = v
			} else {
				delete(prior, k)
			}
		}
		pc.Planned = encodeObject(prior)
	}
	return pc
}

// planCreate plans a new job: the desired arguments, status pending and the launch;
// job_id, slurm_job_id and log_dir are unknown. reason, when set, is the status_reason.
func planCreate(pc providers.PlannedChange, workDir string, cfg config, desired map[string]json.RawMessage, spec launch.Spec, reason string) providers.PlannedChange {
	planned := arguments(desired)
	planned[attrStatus] = rawJSON(StatusPending)
	planned[attrLaunch] = launchSummary(cfg, resolveSpec(workDir, spec))
	if reason != "" {
		planned[attrStatusReason] = rawJSON(reason)
	}
	pc.Planned = encodeObject(planned)
	pc.Unknown = []string{attrJobID, attrSlurmJobID, attrLogDir}
	return pc
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

// resolveSpec makes the job's workdir absolute (relative to WORKDIR, WORKDIR when unset)
// and its checkpoint directory too (relative to the job's workdir).
func resolveSpec(workDir string, spec launch.Spec) launch.Spec {
	switch {
	case spec.WorkDir == "":
		spec.WorkDir = workDir
	case !filepath.IsAbs(spec.WorkDir):
		spec.WorkDir = filepath.Join(workDir, spec.WorkDir)
	}
	if spec.CheckpointDir != "" && !filepath.IsAbs(spec.CheckpointDir) {
		spec.CheckpointDir = filepath.Join(spec.WorkDir, spec.CheckpointDir)
	}
	return spec
}

// replaceReason says why a job is replaced, for status_reason: "replaces job X, which
// failed: rank 1 exited with code 3 (...)", "replaces job X: changed command, env".
func replaceReason(prior map[string]json.RawMessage, replace []string) string {
	reason := "replaces the job"
	if id := stringAttr(prior, attrJobID); id != "" {
		reason = "replaces job " + id
	}
	sep := ": "
	if slices.Contains(replace, attrStatus) {
		switch status := stringAttr(prior, attrStatus); status {
		case StatusFailed:
			reason += ", which failed"
			if why := stringAttr(prior, attrStatusReason); why != "" {
				reason += ": " + why
			}
		default:
			reason += ", which was " + status
		}
		sep = "; "
	}
	var args []string
	for _, k := range replace {
		if k != attrStatus {
			args = append(args, k)
		}
	}
	if len(args) > 0 {
		reason += sep + "changed " + strings.Join(args, ", ")
	}
	return reason
}

// launchWarnings are what Slurm will not do as configured: run an image (the provider
// runs the command directly, without a container plugin).
func launchWarnings(spec launch.Spec) []providers.Diagnostic {
	if spec.Image == "" {
		return nil
	}
	return []providers.Diagnostic{{Severity: providers.SeverityWarning, Attribute: "image", Summary: "Image ignored",
		Detail: fmt.Sprintf("The slurm provider runs the command directly on the allocated nodes; image %q is not used.", spec.Image)}}
}
