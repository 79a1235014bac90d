package launch

import (
	"sort"
	"strconv"
)

// RoleName is the worker role every process has (torchrun's default role).
const RoleName = "default"

// contractVars are the variables RankEnv sets for every process; env may not set them.
var contractVars = []string{
	"MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE",
	"GROUP_RANK", "GROUP_WORLD_SIZE", "ROLE_RANK", "ROLE_NAME", "ROLE_WORLD_SIZE",
	"TORCHELASTIC_RESTART_COUNT", "TORCHELASTIC_MAX_RESTARTS", "TORCHELASTIC_RUN_ID",
	"FABRICA_JOB_ID", "FABRICA_RUN_ID", "FABRICA_CHECKPOINT_DIR", "FABRICA_CHECKPOINT_INTERVAL_MINUTES",
}

var isContract = func() map[string]bool {
	m := make(map[string]bool, len(contractVars))
	for _, k := range contractVars {
		m[k] = true
	}
	return m
}()

// ContractVars returns the names of the variables RankEnv sets, in its order.
func ContractVars() []string { return append([]string(nil), contractVars...) }

// IsContractVar reports whether RankEnv sets the variable name.
func IsContractVar(name string) bool { return isContract[name] }

// RankEnv returns the environment of one process as KEY=VALUE strings: the user's env
// (sorted by key), then the torchrun contract for the localRank-th process of node
// groupRank in its restart-th attempt. The global rank is groupRank × ProcsPerNode +
// localRank; ROLE_RANK equals it and ROLE_WORLD_SIZE the world size, since every process
// has the one role RoleName. The caller adds the base environment (PATH, HOME, ...)
// before it; when a key repeats, the last one wins (as os/exec does).
func (s Spec) RankEnv(groupRank, localRank int, restart int) []string {
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	env := make([]string, 0, len(keys)+len(contractVars))
	for _, k := range keys {
		env = append(env, k+"="+s.Env[k])
	}
	world := strconv.Itoa(s.WorldSize())
	rank := strconv.Itoa(s.Rank(groupRank, localRank))
	itoa := strconv.Itoa
	return append(env,
		"MASTER_ADDR="+s.MasterAddr,
		"MASTER_PORT="+itoa(s.MasterPort),
		"WORLD_SIZE="+world,
		"RANK="+rank,
		"LOCAL_RANK="+itoa(localRank),
		"LOCAL_WORLD_SIZE="+itoa(s.ProcsPerNode),
		"GROUP_RANK="+itoa(groupRank),
		"GROUP_WORLD_SIZE="+itoa(s.Nodes),
		"ROLE_RANK="+rank,
		"ROLE_NAME="+RoleName,
		"ROLE_WORLD_SIZE="+world,
		"TORCHELASTIC_RESTART_COUNT="+itoa(restart),
		"TORCHELASTIC_MAX_RESTARTS="+itoa(s.MaxRestarts),
		"TORCHELASTIC_RUN_ID="+s.RunID,
		"FABRICA_JOB_ID="+s.JobID,
		"FABRICA_RUN_ID="+s.RunID,
		"FABRICA_CHECKPOINT_DIR="+s.CheckpointDir,
		"FABRICA_CHECKPOINT_INTERVAL_MINUTES="+strconv.FormatFloat(s.CheckpointIntervalMinutes, 'f', -1, 64),
	)
}
