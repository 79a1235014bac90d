package slurm

import (
	"context"
	"fmt"

	"github.com/fabrica-iac/fabrica/providers"
)

// Read reports each job's attributes: Gone when its directory is missing or fabrica
// deleted it; for a finished job, the final status recorded in the directory; for the
// others, Slurm's state from one scontrol ping and one squeue for the whole batch (plus
// one squeue by name for jobs whose submission was never recorded). When slurmctld does
// not answer, every job that needed it gets an error naming slurmctld; finished jobs are
// still read.
func (p *provider) Read(ctx context.Context, req providers.ReadRequest) providers.ReadResponse {
	workDir, _, c, diags := p.configured()
	if diags != nil {
		return providers.ReadResponse{Diagnostics: diags}
	}
	results := make([]providers.ReadResult, len(req.Items))
	items := make([]readItem, len(req.Items))
	for i, it := range req.Items {
		results[i].Address = it.Address
		if it.Kind != Kind {
			results[i].Diagnostics = []providers.Diagnostic{unsupportedKind(it.Kind)}
			continue
		}
		j, gone, err := load(workDir, it.ID)
		switch {
		case gone:
			results[i].Gone = true
		case err != nil:
			results[i].Diagnostics = []providers.Diagnostic{readError(it.ID, err)}
		default:
			items[i].j = j
			if st, ok := readFinal(j.dir); ok {
				items[i].st = &st
			}
		}
	}
	p.readSlurm(ctx, c, items)
	for i, it := range req.Items {
		r := items[i]
		switch {
		case r.j == nil:
			continue
		case r.err != nil:
			results[i].Diagnostics = []providers.Diagnostic{readError(r.j.ID, r.err)}
			continue
		}
		attrs := attrsOf(r.j, *r.st)
		if h := providers.AttrsHash(attrs); h == it.PriorHash {
			results[i].Unchanged = true
		} else {
			results[i].Attrs, results[i].Hash = attrs, h
		}
	}
	return providers.ReadResponse{Results: results}
}

// readItem is one job being read: its status once known, or why it could not be.
type readItem struct {
	j   *jobFile
	st  *jobStatus
	err error
}

// readSlurm fills in the statuses of the jobs that have none yet: one query for those
// with Slurm ids, a lookup by name for the others.
func (p *provider) readSlurm(ctx context.Context, c *cli, items []readItem) {
	var ids []string
	for _, r := range items {
		if r.j != nil && r.st == nil && r.j.SlurmID != "" {
			ids = append(ids, r.j.SlurmID)
		}
	}
	var found map[string]slurmJob
	var err error
	if len(ids) > 0 {
		if err = p.ping(ctx, c, false); err == nil {
			found, err = c.squeue(ctx, "--jobs", ids)
		}
	}
	for i := range items {
		r := &items[i]
		if r.j == nil || r.st != nil {
			continue
		}
		if r.j.SlurmID == "" { // never recorded as submitted
			st, err := p.observeByName(ctx, c, r.j)
			r.st, r.err = &st, err
			continue
		}
		if err != nil {
			r.err = err
			continue
		}
		sj, ok := found[r.j.SlurmID]
		st := settle(r.j, sj, ok && sj.Name == r.j.ID)
		r.st = &st
	}
}

// readError is the diagnostic of a job that could not be read.
func readError(id string, err error) providers.Diagnostic {
	if isUnreachable(err) {
		return providers.Errorf("", "Slurm is not responding", fmt.Sprintf("Cannot read job %s: %v.", id, err))
	}
	return providers.Errorf("", "Cannot read job", fmt.Sprintf("Job %s: %v.", id, err))
}

// Import returns the attributes of the job with the given id (a directory name under
// .fabrica/jobs).
func (p *provider) Import(ctx context.Context, req providers.ImportRequest) providers.ImportResponse {
	workDir, _, c, diags := p.configured()
	if diags != nil {
		return providers.ImportResponse{Diagnostics: diags}
	}
	if req.Kind != Kind {
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{unsupportedKind(req.Kind)}}
	}
	j, gone, err := load(workDir, req.ID)
	switch {
	case gone && j != nil:
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Cannot import job",
			fmt.Sprintf("Job %s was deleted by fabrica; its directory %s is kept only for its logs.", req.ID, j.dir))}}
	case gone:
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Cannot import job",
			fmt.Sprintf("There is no job %q in %s; the slurm provider imports jobs it submitted, by their job_id.", req.ID, jobsRoot(workDir)))}}
	case err != nil:
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{readError(req.ID, err)}}
	}
	st, err := p.observe(ctx, c, j)
	if err != nil {
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{readError(req.ID, err)}}
	}
	return providers.ImportResponse{Attrs: attrsOf(j, st)}
}
