package local

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Plan proposes each job's attributes after apply. A new job is planned pending with the
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
		pc.Diagnostics = append(pc.Diagnostics, launchWarnings(workDir, spec)...)
		return planCreate(pc, workDir, it.Address, desired, spec, "")
	}
	prior, err := decodeObject(it.Prior)
	if err != nil {
		pc.Diagnostics = append(pc.Diagnostics, providers.Errorf("", "Invalid prior attributes", err.Error()))
		return pc
	}
	changed := changedArgs(prior, desired)
	replace := slices.DeleteFunc(slices.Clone(changed), func(k string) bool { return inPlace[k] })
	status := stringAttr(prior, attrStatus)
	if status == StatusFailed || status == StatusCancelled {
		replace = append(replace, attrStatus)
	}
	switch {
	case len(replace) > 0:
		pc.Diagnostics = append(pc.Diagnostics, launchWarnings(workDir, spec)...)
		pc = planCreate(pc, workDir, it.Address, desired, spec, replaceReason(prior, replace))
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

// planCreate plans a new job: the desired attributes, status pending and the launch;
// job_id and log_dir are unknown. reason, when set, is the status_reason.
func planCreate(pc providers.PlannedChange, workDir, address string, desired map[string]json.RawMessage, spec launch.Spec, reason string) providers.PlannedChange {
	planned := make(map[string]json.RawMessage, len(desired)+3)
	for k, v := range desired {
		if !computed[k] {
			planned[k] = v
		}
	}
	spec = resolveSpec(workDir, spec)
	spec.MasterAddr, spec.MasterPort = masterAddr, launch.DefaultPort(address)
	planned[attrStatus] = rawJSON(StatusPending)
	planned[attrLaunch] = rawJSON(spec.Summary())
	if reason != "" {
		planned[attrStatusReason] = rawJSON(reason)
	}
	pc.Planned = encodeObject(planned)
	pc.Unknown = []string{attrJobID, attrLogDir}
	return pc
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
