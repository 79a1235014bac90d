package sim

import (
	"bytes"
	"context"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/fabrica-iac/fabrica/providers"
)

// kindSpec is what the sim provider knows about one resource kind.
type kindSpec struct {
	// replace lists the attributes whose change forces a replacement: the object is
	// deleted and created again with a new ID.
	replace []string
	// computed lists the attributes the provider sets; configuration never sets them,
	// and an update keeps them from the prior attributes.
	computed []string
	// unknownOnCreate lists the computed attributes known only after apply.
	unknownOnCreate []string
	// onCreate holds computed attributes whose value after a create is known at plan.
	onCreate []field
	// staged kinds go through stages on create, each reported as a progress event.
	staged bool
}

// Hardware stages, in order; a server is in service when its create is done.
const (
	stageRacked    = "racked"
	stageBurnIn    = "burn-in"
	stageInService = "in-service"
)

var hardwareStages = []string{stageRacked, stageBurnIn, stageInService}

// kinds is every kind the sim provider implements. training_job is not one: jobs run on
// a scheduler provider (local, slurm).
var kinds = map[string]*kindSpec{
	"facility": {replace: []string{"region"}, computed: []string{"id"}, unknownOnCreate: []string{"id"}},
	"hardware": {
		replace:         []string{"device_type", "facility", "rack"},
		computed:        []string{"bmc_password", "id", "serial_number", "stage"},
		unknownOnCreate: []string{"bmc_password", "id", "serial_number"},
		onCreate:        []field{stringField("stage", stageInService)},
		staged:          true,
	},
	"fabric":           {replace: []string{"facility", "transport"}, computed: []string{"id"}, unknownOnCreate: []string{"id"}},
	"storage":          {replace: []string{"facility", "kind"}, computed: []string{"id"}, unknownOnCreate: []string{"id"}},
	"dr_site":          {replace: []string{"primary", "secondary"}, computed: []string{"id"}, unknownOnCreate: []string{"id"}},
	"training_cluster": {replace: []string{"facility", "scheduler"}, computed: []string{"id"}, unknownOnCreate: []string{"id"}},
}

// sensitive lists the attributes whose values are secrets: fabrica redacts them.
var sensitive = map[string][]string{"hardware": {"bmc_password"}}

// kindNames returns the implemented kinds, sorted.
func kindNames() []string { return sortedKeys(kinds) }

// Plan spreads a batch over the CPUs from planParallelMin items or planParallelBytes
// of attributes.
const (
	planParallelMin   = 2048
	planParallelBytes = 1 << 20
)

// Plan proposes each instance's attributes after apply: the desired attributes plus the
// computed ones (kept from the prior attributes on update, unknown or fixed on create).
// It needs no world: a plan is a function of prior and desired attributes.
func (p *provider) Plan(ctx context.Context, req providers.PlanRequest) providers.PlanResponse {
	changes := make([]providers.PlannedChange, len(req.Items))
	itemSize := func(i int) int { return len(req.Items[i].Desired) + len(req.Items[i].Prior) + 64 }
	forSizedChunks(len(req.Items), planParallelMin, planParallelBytes, itemSize, func(lo, hi int) {
		// The instances of a counted block come one after another, most often with the
		// same desired attributes: a create is then planned once for all of them.
		var last *providers.PlanItem
		for i := lo; i < hi; i++ {
			it := &req.Items[i]
			if last != nil && it.Prior == nil && it.Desired != nil && it.Kind == last.Kind && bytes.Equal(it.Desired, last.Desired) {
				pc := changes[i-1]
				pc.Address = it.Address
				changes[i] = pc
				continue
			}
			changes[i], last = planItem(*it), nil
			if it.Prior == nil && it.Desired != nil && len(changes[i].Diagnostics) == 0 {
				last = it
			}
		}
	})
	return providers.PlanResponse{Changes: changes}
}

// forChunks calls fn over [0,n) in contiguous chunks, one per CPU when n is at least
// minN.
func forChunks(n, minN int, fn func(lo, hi int)) {
	forSizedChunks(n, minN, math.MaxInt, func(int) int { return 1 }, fn)
}

// forSizedChunks calls fn over [0,n) in contiguous chunks, one per CPU, of about the
// same total size, item i's being size(i): the few large items of a batch (fabrics that list thousands of endpoints,
// each 100 KB of attributes to check) are shared between the CPUs instead of all
// falling to the last. It splits from minN items or minBytes in all.
func forSizedChunks(n, minN, minBytes int, size func(i int) int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	total := 0
	for i := range n {
		total += size(i)
	}
	if workers < 2 || n < 2 || (n < minN && total < minBytes) {
		fn(0, n)
		return
	}
	bounds := []int{0}
	acc := 0
	for i := range n {
		before := acc
		acc += size(i)
		if k := len(bounds); k < workers && acc*workers >= total*k {
			// Cut after item i, or before it when that is nearer the share.
			cut := i + 1
			if target := total * k; acc*workers-target > target-before*workers && i > bounds[k-1] {
				cut = i
			}
			bounds = append(bounds, cut)
		}
	}
	if bounds[len(bounds)-1] != n {
		bounds = append(bounds, n)
	}
	var wg sync.WaitGroup
	for k := 1; k < len(bounds); k++ {
		if lo, hi := bounds[k-1], bounds[k]; lo < hi {
			wg.Go(func() { fn(lo, hi) })
		}
	}
	wg.Wait()
}

// planItem plans one instance.
func planItem(it providers.PlanItem) providers.PlannedChange {
	pc := providers.PlannedChange{Address: it.Address}
	spec, ok := kinds[it.Kind]
	if !ok {
		pc.Diagnostics = []providers.Diagnostic{unsupportedKind(it.Kind)}
		return pc
	}
	if it.Desired == nil {
		return pc // delete
	}
	var desiredBuf, priorBuf [maxStackFields]field
	desired, err := splitObject(desiredBuf[:0], it.Desired)
	if err != nil {
		pc.Diagnostics = []providers.Diagnostic{providers.Errorf("", "Invalid desired attributes", err.Error())}
		return pc
	}
	var prior []field
	if it.Prior != nil {
		if prior, err = splitObject(priorBuf[:0], it.Prior); err != nil {
			pc.Diagnostics = []providers.Diagnostic{providers.Errorf("", "Invalid prior attributes", err.Error())}
			return pc
		}
		pc.RequiresReplace = changedAttrs(spec.replace, prior, desired)
	}
	var setBuf [4]field
	set := setBuf[:0]
	if it.Prior == nil || len(pc.RequiresReplace) > 0 {
		set = append(set, spec.onCreate...)
		pc.Unknown = slices.Clone(spec.unknownOnCreate)
	} else {
		for _, k := range spec.computed {
			v := lookup(prior, k)
			if k == "id" && it.ID != "" {
				v = appendString(nil, it.ID)
			}
			if v != nil {
				set = append(set, field{key: []byte(k), val: v})
			}
		}
	}
	pc.Planned = merge(desired, spec.computed, set)
	if bytes.Equal(pc.Planned, it.Prior) {
		pc.Planned = it.Prior // no change: share the prior's bytes
	}
	return pc
}

// changedAttrs returns those of names whose values differ between a and b; an absent
// attribute equals null.
func changedAttrs(names []string, a, b []field) []string {
	var changed []string
	for _, k := range names {
		if !bytes.Equal(orNull(lookup(a, k)), orNull(lookup(b, k))) {
			changed = append(changed, k)
		}
	}
	sort.Strings(changed)
	return changed
}

var null = []byte("null")

func orNull(v []byte) []byte {
	if len(v) == 0 {
		return null
	}
	return v
}
