package launch

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fabrica-iac/fabrica/providers"
)

// InPlace are the job arguments whose change does not relaunch a job: wait only changes
// how long apply waits, memory_per_gpu_gb is a plan-time estimate, and partition (the
// cluster's) decides where a job is submitted, so a job already submitted stays where
// it runs and the next launch goes to the new one (jobs recorded before jobs carried a
// partition are not relaunched either). Every other argument is part of what runs, so
// its change replaces the job.
var InPlace = map[string]bool{"wait": true, "memory_per_gpu_gb": true, "partition": true}

// JobPlan is what a scheduler provider's plan of a training_job depends on. The rules
// themselves (what replaces a job, what changes in place, what status_reason says) are
// the same for every scheduler, so that a plan reads alike whatever runs the job; Plan
// holds them once.
type JobPlan struct {
	// WorkDir is the absolute working directory, against which ResolveSpec resolves.
	WorkDir string
	// Computed are the attributes the provider sets; InPlace are the arguments whose
	// change does not relaunch the job.
	Computed, InPlace map[string]bool
	// Unknown are the computed attributes known only after apply.
	Unknown []string
	// Warnings says what will not work as configured, for a job about to be launched.
	Warnings func(Spec) []providers.Diagnostic
	// Launch is the launch attribute of a job to be launched for address, given its
	// resolved spec (see ResolveSpec).
	Launch func(address string, spec Spec) json.RawMessage
}

// Plan proposes a job's attributes after apply; the caller has checked the item's kind.
// A new job is planned pending with its launch, the attributes in Unknown unknown. A job
// whose arguments are unchanged and that is pending, running or succeeded keeps its
// attributes (a plan right after an apply is empty). A changed argument replaces the job,
// except those InPlace, which change in place; a failed or cancelled job is replaced too
// (RequiresReplace "status"), and status_reason says why.
func (r JobPlan) Plan(it providers.PlanItem) providers.PlannedChange {
	pc := providers.PlannedChange{Address: it.Address}
	if it.Desired == nil {
		return pc // delete: the job is cancelled
	}
	desired, err := DecodeObject(it.Desired)
	if err != nil {
		pc.Diagnostics = []providers.Diagnostic{providers.Errorf("", "Invalid desired attributes", err.Error())}
		return pc
	}
	spec, diags := SpecFromAttrs(it.Desired)
	pc.Diagnostics = diags
	if providers.HasErrors(diags) {
		return pc
	}
	if it.Prior == nil {
		pc.Diagnostics = append(pc.Diagnostics, r.Warnings(spec)...)
		return r.create(pc, it.Address, desired, spec, "")
	}
	prior, err := DecodeObject(it.Prior)
	if err != nil {
		pc.Diagnostics = append(pc.Diagnostics, providers.Errorf("", "Invalid prior attributes", err.Error()))
		return pc
	}
	changed := ChangedArgs(prior, desired, r.Computed)
	replace := slices.DeleteFunc(slices.Clone(changed), func(k string) bool { return r.InPlace[k] })
	if status := StringAttr(prior, AttrStatus); status == StatusFailed || status == StatusCancelled {
		replace = append(replace, AttrStatus)
	}
	switch {
	case len(replace) > 0:
		pc.Diagnostics = append(pc.Diagnostics, r.Warnings(spec)...)
		pc = r.create(pc, it.Address, desired, spec, ReplaceReason(prior, replace))
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
		pc.Planned = EncodeObject(prior)
	}
	return pc
}

// create plans a new job: the desired arguments, status pending and the launch; reason,
// when set, is the status_reason.
func (r JobPlan) create(pc providers.PlannedChange, address string, desired map[string]json.RawMessage, spec Spec, reason string) providers.PlannedChange {
	planned := Arguments(desired, r.Computed)
	planned[AttrStatus] = RawJSON(StatusPending)
	planned[AttrLaunch] = r.Launch(address, ResolveSpec(r.WorkDir, spec))
	if reason != "" {
		planned[AttrStatusReason] = RawJSON(reason)
	}
	pc.Planned = EncodeObject(planned)
	pc.Unknown = slices.Clone(r.Unknown)
	return pc
}

// ResolveSpec makes the job's workdir absolute (relative to workDir, workDir when unset)
// and its checkpoint directory too (relative to the job's workdir), as a plan shows them
// and as the job is launched, so the two agree.
func ResolveSpec(workDir string, spec Spec) Spec {
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

// ReplaceReason says why a job is replaced, for status_reason: "replaces job X, which
// failed: rank 1 exited with code 3 (...)", "replaces job X: changed command, env".
func ReplaceReason(prior map[string]json.RawMessage, replace []string) string {
	reason := "replaces the job"
	if id := StringAttr(prior, AttrJobID); id != "" {
		reason = "replaces job " + id
	}
	sep := ": "
	if slices.Contains(replace, AttrStatus) {
		switch status := StringAttr(prior, AttrStatus); status {
		case StatusFailed:
			reason += ", which failed"
			if why := StringAttr(prior, AttrStatusReason); why != "" {
				reason += ": " + why
			}
		default:
			reason += ", which was " + status
		}
		sep = "; "
	}
	var args []string
	for _, k := range replace {
		if k != AttrStatus {
			args = append(args, k)
		}
	}
	if len(args) > 0 {
		reason += sep + "changed " + strings.Join(args, ", ")
	}
	return reason
}
