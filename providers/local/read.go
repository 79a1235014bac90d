package local

import (
	"context"
	"fmt"

	"github.com/fabrica-iac/fabrica/providers"
)

// Read reports each job's attributes from its spec.json and status.json: Gone when the
// job directory is missing or fabrica deleted the job, Unchanged when the attributes hash
// to the prior hash. A job whose supervisor died before it finished is recorded failed
// ("supervisor died") first.
func (p *provider) Read(_ context.Context, req providers.ReadRequest) providers.ReadResponse {
	workDir, _, diags := p.configured()
	if diags != nil {
		return providers.ReadResponse{Diagnostics: diags}
	}
	results := make([]providers.ReadResult, len(req.Items))
	for i, it := range req.Items {
		r := providers.ReadResult{Address: it.Address}
		if it.Kind != Kind {
			r.Diagnostics = []providers.Diagnostic{unsupportedKind(it.Kind)}
			results[i] = r
			continue
		}
		j, st, gone, err := load(workDir, it.ID)
		switch {
		case gone:
			r.Gone = true
		case err != nil:
			r.Diagnostics = []providers.Diagnostic{providers.Errorf("", "Cannot read job", fmt.Sprintf("Job %s: %v.", it.ID, err))}
		default:
			attrs := attrsOf(j, st)
			if h := providers.AttrsHash(attrs); h == it.PriorHash {
				r.Unchanged = true
			} else {
				r.Attrs, r.Hash = attrs, h
			}
		}
		results[i] = r
	}
	return providers.ReadResponse{Results: results}
}

// Import returns the attributes of the job with the given id (a directory name under
// .fabrica/jobs, as `fabrica jobs` lists).
func (p *provider) Import(_ context.Context, req providers.ImportRequest) providers.ImportResponse {
	workDir, _, diags := p.configured()
	if diags != nil {
		return providers.ImportResponse{Diagnostics: diags}
	}
	if req.Kind != Kind {
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{unsupportedKind(req.Kind)}}
	}
	j, st, gone, err := load(workDir, req.ID)
	switch {
	case gone && j != nil:
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Cannot import job",
			fmt.Sprintf("Job %s was deleted by fabrica; its directory %s is kept only for its logs.", req.ID, j.dir))}}
	case gone:
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Cannot import job",
			fmt.Sprintf("There is no job %q in %s; `fabrica jobs` lists the jobs there.", req.ID, jobsRoot(workDir)))}}
	case err != nil:
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Cannot import job", fmt.Sprintf("Job %s: %v.", req.ID, err))}}
	}
	return providers.ImportResponse{Attrs: attrsOf(j, st)}
}
