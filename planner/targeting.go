package planner

import (
	"slices"
	"strings"

	"github.com/fabrica-iac/fabrica/planner/plans"
)

// applyTargeting keeps, with --target, the targeted instances and everything they depend
// on; with --exclude, it drops the excluded instances and everything that depends on
// them. Both work on resource-level dependencies, as the apply walk does.
func applyTargeting(cs []*plans.ResourceChange, opts PlanOptions) []*plans.ResourceChange {
	if len(opts.Targets) == 0 && len(opts.Excludes) == 0 {
		return cs
	}
	deps := map[string][]string{} // resource → resources it depends on
	for _, rc := range cs {
		deps[resourceOf(rc.Address)] = rc.Dependencies
	}
	if len(opts.Targets) > 0 {
		keepRes := map[string]bool{}
		var visit func(r string)
		visit = func(r string) {
			if keepRes[r] {
				return
			}
			keepRes[r] = true
			for _, d := range deps[r] {
				visit(d)
			}
		}
		for _, rc := range cs {
			if matchesAny(rc.Address, opts.Targets) {
				for _, d := range rc.Dependencies {
					visit(d)
				}
			}
		}
		cs = slices.DeleteFunc(cs, func(rc *plans.ResourceChange) bool {
			return !matchesAny(rc.Address, opts.Targets) && !keepRes[resourceOf(rc.Address)]
		})
	}
	if len(opts.Excludes) > 0 {
		dropRes := map[string]bool{}
		for _, rc := range cs {
			if matchesAny(rc.Address, opts.Excludes) {
				dropRes[resourceOf(rc.Address)] = true
			}
		}
		// Whatever depends on an excluded resource (directly or not) is excluded too.
		for changed := true; changed; {
			changed = false
			for r, ds := range deps {
				if !dropRes[r] && slices.ContainsFunc(ds, func(d string) bool { return dropRes[d] }) {
					dropRes[r], changed = true, true
				}
			}
		}
		excluded := func(rc *plans.ResourceChange) bool {
			if matchesAny(rc.Address, opts.Excludes) {
				return true
			}
			// Dependents of an excluded resource go too; its other instances stay.
			return dropRes[resourceOf(rc.Address)] && !sameResourceExcludedPartly(rc.Address, opts.Excludes)
		}
		cs = slices.DeleteFunc(cs, excluded)
	}
	return cs
}

func matchesAny(addr string, targets []string) bool {
	return slices.ContainsFunc(targets, func(t string) bool { return matchesAddress(addr, t) })
}

// resourceOf strips the instance key: hardware.gpu[3] → hardware.gpu.
func resourceOf(addr string) string {
	if i := strings.IndexByte(addr, '['); i >= 0 {
		return addr[:i]
	}
	return addr
}

// sameResourceExcludedPartly reports whether an exclude names another instance of this
// instance's resource (hardware.n[1] excludes n[1], not n[0]).
func sameResourceExcludedPartly(addr string, excludes []string) bool {
	res := resourceOf(addr)
	return slices.ContainsFunc(excludes, func(e string) bool { return e != res && resourceOf(e) == res })
}
