package main

import (
	"errors"
	"fmt"
	"strconv"
)

// contract is the torchrun environment contract (domain.md §4) plus fabrica's own
// variables, as one process of the job sees it.
type contract struct {
	MasterAddr string
	MasterPort int
	WorldSize  int
	Rank       int
	LocalRank  int

	// Optional: -1 when the launcher did not set them.
	LocalWorldSize int
	GroupRank      int
	GroupWorldSize int
	RestartCount   int

	JobID         string
	RunID         string
	CheckpointDir string
}

// envError says which variable of the contract is missing or invalid.
type envError struct {
	Name string
	Msg  string
}

func (e *envError) Error() string {
	return fmt.Sprintf("environment variable %s %s", e.Name, e.Msg)
}

// readContract reads the launch contract through getenv. It reports every missing or
// invalid variable, each as an *envError naming it.
func readContract(getenv func(string) string) (contract, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, &envError{Name: name, Msg: fmt.Sprintf(format, args...)})
	}
	str := func(name string) string {
		v := getenv(name)
		if v == "" {
			bad(name, "is not set")
		}
		return v
	}
	// num reads an integer in [lo, hi]; optional variables yield -1 when unset.
	num := func(name string, lo, hi int, optional bool) int {
		v := getenv(name)
		if v == "" {
			if !optional {
				bad(name, "is not set")
			}
			return -1
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			bad(name, "is %q, not an integer", v)
			return -1
		}
		if n < lo || n > hi {
			bad(name, "is %d, want %d..%d", n, lo, hi)
			return -1
		}
		return n
	}
	const maxInt = int(^uint(0) >> 1)

	var c contract
	c.MasterAddr = str("MASTER_ADDR")
	c.MasterPort = num("MASTER_PORT", 1, 65535, false)
	c.WorldSize = num("WORLD_SIZE", 1, 1<<20, false)
	rankMax := maxInt
	if c.WorldSize > 0 {
		rankMax = c.WorldSize - 1
	}
	c.Rank = num("RANK", 0, rankMax, false)
	c.LocalWorldSize = num("LOCAL_WORLD_SIZE", 1, 1<<20, true)
	localMax := maxInt
	if c.LocalWorldSize > 0 {
		localMax = c.LocalWorldSize - 1
	}
	c.LocalRank = num("LOCAL_RANK", 0, localMax, false)
	c.GroupWorldSize = num("GROUP_WORLD_SIZE", 1, 1<<20, true)
	groupMax := maxInt
	if c.GroupWorldSize > 0 {
		groupMax = c.GroupWorldSize - 1
	}
	c.GroupRank = num("GROUP_RANK", 0, groupMax, true)
	c.RestartCount = num("TORCHELASTIC_RESTART_COUNT", 0, maxInt, true)
	c.JobID = str("FABRICA_JOB_ID")
	c.RunID = str("FABRICA_RUN_ID")
	c.CheckpointDir = str("FABRICA_CHECKPOINT_DIR")
	return c, errors.Join(errs...)
}

// optional renders an optional contract value for the start-up log line.
func optional(n int) string {
	if n < 0 {
		return "?"
	}
	return strconv.Itoa(n)
}
