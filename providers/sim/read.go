package sim

import (
	"context"
	"fmt"

	"github.com/fabrica-iac/fabrica/providers"
)

// Read reports each instance's actual attributes: Gone when its object is missing (or
// is of another kind), Unchanged without attributes when the object's hash equals the
// prior hash, else the attributes and their hash. The hash is kept with each object,
// so an unchanged instance costs a map lookup.
func (p *provider) Read(ctx context.Context, req providers.ReadRequest) providers.ReadResponse {
	w, diags := p.current()
	if w == nil {
		return providers.ReadResponse{Diagnostics: diags}
	}
	results := make([]providers.ReadResult, len(req.Items))
	w.mu.RLock()
	defer w.mu.RUnlock()
	for i, it := range req.Items {
		r := providers.ReadResult{Address: it.Address}
		if _, ok := kinds[it.Kind]; !ok {
			r.Diagnostics = []providers.Diagnostic{unsupportedKind(it.Kind)}
			results[i] = r
			continue
		}
		o, ok := w.objects[it.ID]
		switch {
		case !ok || o.Kind != it.Kind:
			r.Gone = true
		case it.PriorHash != "" && o.Hash == it.PriorHash:
			r.Unchanged = true
		default:
			r.Attrs, r.Hash = o.Attrs, o.Hash
		}
		results[i] = r
	}
	return providers.ReadResponse{Results: results}
}

// Import returns the attributes of the object with the given ID.
func (p *provider) Import(ctx context.Context, req providers.ImportRequest) providers.ImportResponse {
	w, diags := p.current()
	if w == nil {
		return providers.ImportResponse{Diagnostics: diags}
	}
	if _, ok := kinds[req.Kind]; !ok {
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{unsupportedKind(req.Kind)}}
	}
	o, ok := w.get(req.ID)
	if !ok {
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Cannot import object",
			fmt.Sprintf("The sim world has no object %q; the objects it has are listed in %s.", req.ID, w.path()))}}
	}
	if o.Kind != req.Kind {
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Cannot import object",
			fmt.Sprintf("Sim object %q is a %s, not a %s.", req.ID, o.Kind, req.Kind))}}
	}
	return providers.ImportResponse{Attrs: o.Attrs}
}
