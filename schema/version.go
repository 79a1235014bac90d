package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is fabrica's version; release builds set it with
// -ldflags "-X github.com/fabrica-iac/fabrica/schema.Version=1.2.3".
var Version = "0.1.0"

// CheckVersionConstraint reports whether version satisfies a required_version constraint
// such as ">= 0.1, < 2.0" or "~> 0.1" (Terraform's syntax); err describes a malformed one.
func CheckVersionConstraint(constraint, version string) (bool, error) {
	have, err := parseVersion(version)
	if err != nil {
		return false, err
	}
	for _, part := range strings.Split(constraint, ",") {
		part = strings.TrimSpace(part)
		op := "="
		for _, o := range []string{">=", "<=", "!=", "~>", ">", "<", "="} {
			if strings.HasPrefix(part, o) {
				op, part = o, strings.TrimSpace(part[len(o):])
				break
			}
		}
		want, err := parseVersion(part)
		if err != nil {
			return false, fmt.Errorf("%q is not a version constraint: %w", constraint, err)
		}
		c := compareVersions(have, want)
		ok := map[string]bool{">=": c >= 0, "<=": c <= 0, "!=": c != 0, ">": c > 0, "<": c < 0, "=": c == 0}[op]
		if op == "~>" {
			// ~> 1.2 allows 1.x from 1.2; ~> 1.2.3 allows 1.2.x from 1.2.3.
			upper := append([]int(nil), want.nums[:max(len(want.nums)-1, 1)]...)
			upper[len(upper)-1]++
			ok = c >= 0 && compareVersions(have, version3{nums: upper}) < 0
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

type version3 struct{ nums []int }

func parseVersion(s string) (version3, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i] // pre-release and build metadata do not take part in constraints here
	}
	fields := strings.Split(s, ".")
	if s == "" || len(fields) > 3 {
		return version3{}, fmt.Errorf("%q is not a version like 1.2.3", s)
	}
	v := version3{}
	for _, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return version3{}, fmt.Errorf("%q is not a version like 1.2.3", s)
		}
		v.nums = append(v.nums, n)
	}
	return v, nil
}

func compareVersions(a, b version3) int {
	for i := range 3 {
		var x, y int
		if i < len(a.nums) {
			x = a.nums[i]
		}
		if i < len(b.nums) {
			y = b.nums[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
