package launch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/fabrica-iac/fabrica/providers"
)

// Wait modes: how long apply waits for a launched job.
const (
	WaitNone      = "none"      // return right after submitting
	WaitRunning   = "running"   // until every process has started (the default)
	WaitCompleted = "completed" // until the job has finished
)

// Spec is one logical launch: Nodes × ProcsPerNode processes of Command, each with the
// environment RankEnv renders.
type Spec struct {
	// Nodes and ProcsPerNode give the layout; their product is the world size.
	Nodes        int `json:"nodes"`
	ProcsPerNode int `json:"processes_per_node"`
	// GPUsPerNode is what the job asks of each node (0: none, or the scheduler's
	// default).
	GPUsPerNode int `json:"gpus_per_node,omitempty"`
	// Command is the program and its arguments, as configured.
	Command []string `json:"command"`
	// Env is the user's environment, set for every process before the contract.
	Env map[string]string `json:"env,omitempty"`
	// MasterAddr and MasterPort are the rendezvous endpoint (the c10d TCPStore of rank 0).
	MasterAddr string `json:"master_addr,omitempty"`
	MasterPort int    `json:"master_port,omitempty"`
	// RunID names the rendezvous (TORCHELASTIC_RUN_ID, FABRICA_RUN_ID); JobID is the
	// scheduler's id of the job (FABRICA_JOB_ID).
	RunID string `json:"run_id,omitempty"`
	JobID string `json:"job_id,omitempty"`
	// CheckpointDir is checkpoint.dir (FABRICA_CHECKPOINT_DIR); WorkDir is the job's
	// working directory. SpecFromAttrs copies both as configured; providers make them
	// absolute.
	CheckpointDir string `json:"checkpoint_dir,omitempty"`
	WorkDir       string `json:"workdir,omitempty"`
	// CheckpointIntervalMinutes is checkpoint.interval_minutes
	// (FABRICA_CHECKPOINT_INTERVAL_MINUTES), 0 when unset.
	CheckpointIntervalMinutes float64 `json:"checkpoint_interval_minutes,omitempty"`
	// MaxRestarts is how often the whole group is restarted after a process fails.
	MaxRestarts int `json:"max_restarts"`
	// Wait is how long apply waits: WaitNone, WaitRunning or WaitCompleted.
	Wait string `json:"wait,omitempty"`
	// Image is the container image, for schedulers that run one.
	Image string `json:"image,omitempty"`
	// Partition is the scheduler partition of the job's cluster (training_cluster
	// partition), for schedulers that have partitions.
	Partition string `json:"partition,omitempty"`
}

// WorldSize is the number of processes: Nodes × ProcsPerNode.
func (s Spec) WorldSize() int { return s.Nodes * s.ProcsPerNode }

// Rank is the global rank of a node's localRank-th process.
func (s Spec) Rank(groupRank, localRank int) int { return groupRank*s.ProcsPerNode + localRank }

// SpecFromAttrs reads a training_job's attributes into a Spec and checks them. It reads
// command, env, nodes, processes_per_node, gpus_per_node, world_size, max_restarts,
// wait, image, workdir, partition and checkpoint.dir, and ignores every other attribute (the model
// and parallelism figures, and whatever a provider added). The layout comes from nodes
// and processes_per_node; one that is not set follows from world_size and the other
// (processes_per_node defaults to gpus_per_node); with neither set the job is one node of
// world_size processes. The ids, the rendezvous endpoint and absolute directories are
// left to the provider.
func SpecFromAttrs(attrs providers.Attrs) (Spec, []providers.Diagnostic) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(attrs, &m); err != nil || m == nil {
		detail := "The attributes of a training_job must be a JSON object"
		if err != nil {
			detail += ": " + err.Error()
		}
		return Spec{}, []providers.Diagnostic{providers.Errorf("", "Invalid job attributes", detail+".")}
	}
	p := &reader{m: m}
	s := Spec{
		Command:     p.command(),
		Env:         p.env(),
		GPUsPerNode: p.whole("gpus_per_node", 0, 0),
		MaxRestarts: p.whole("max_restarts", 0, 0),
		Wait:        p.oneOf("wait", WaitRunning, WaitNone, WaitRunning, WaitCompleted),
		Image:       p.str("image"),
		WorkDir:     p.str("workdir"),
		Partition:   p.str("partition"),
	}
	s.CheckpointDir, s.CheckpointIntervalMinutes = p.checkpointDir()
	s.Nodes, s.ProcsPerNode = p.layout(s.GPUsPerNode)
	return s, p.diags
}

// reader reads typed attributes, collecting a diagnostic for each bad one.
type reader struct {
	m     map[string]json.RawMessage
	diags []providers.Diagnostic
}

func (p *reader) fail(attr, summary, format string, args ...any) {
	p.diags = append(p.diags, providers.Errorf(attr, summary, fmt.Sprintf(format, args...)))
}

// raw returns an attribute, nil when absent or null.
func (p *reader) raw(name string) json.RawMessage {
	v := p.m[name]
	if len(v) == 0 || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil
	}
	return v
}

// whole reads a whole number of at least lo; def when absent.
func (p *reader) whole(name string, def, lo int) int {
	v := p.raw(name)
	if v == nil {
		return def
	}
	var f float64
	if err := json.Unmarshal(v, &f); err != nil || f != float64(int(f)) || f < float64(lo) || f > 1<<31 {
		p.fail(name, "Invalid "+name, "%s must be a whole number of at least %d, not %s.", name, lo, v)
		return def
	}
	return int(f)
}

func (p *reader) str(name string) string {
	v := p.raw(name)
	if v == nil {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		p.fail(name, "Invalid "+name, "%s must be a string, not %s.", name, v)
	}
	return s
}

func (p *reader) oneOf(name, def string, allowed ...string) string {
	s := p.str(name)
	if s == "" {
		return def
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	p.fail(name, "Invalid "+name, "%s must be one of %s, not %q.", name, strings.Join(allowed, ", "), s)
	return def
}

// command reads the command: a non-empty list of strings whose first is the program.
func (p *reader) command() []string {
	v := p.raw("command")
	if v == nil {
		p.fail("command", "Missing command", "A training_job needs a command: the program each process runs and its arguments, e.g. [\"python3\", \"train.py\"].")
		return nil
	}
	var cmd []string
	if err := json.Unmarshal(v, &cmd); err != nil {
		p.fail("command", "Invalid command", "command must be a list of strings, not %s.", v)
		return nil
	}
	if len(cmd) == 0 || strings.TrimSpace(cmd[0]) == "" {
		p.fail("command", "Empty command", "command must name the program to run as its first element, e.g. [\"python3\", \"train.py\"].")
		return nil
	}
	if strings.ContainsRune(strings.Join(cmd, ""), 0) {
		p.fail("command", "Invalid command", "command must not contain NUL characters.")
		return nil
	}
	return cmd
}

// env reads env: a map of strings whose keys are valid variable names the contract
// does not set.
func (p *reader) env() map[string]string {
	v := p.raw("env")
	if v == nil {
		return nil
	}
	var env map[string]string
	if err := json.Unmarshal(v, &env); err != nil {
		p.fail("env", "Invalid env", "env must be a map of strings, not %s.", v)
		return nil
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case !validEnvName(k):
			p.fail("env", "Invalid environment variable", "env key %q is not a valid variable name: use letters, digits and underscores, not starting with a digit.", k)
		case IsContractVar(k):
			p.fail("env", "Reserved environment variable", "env sets %s, which fabrica sets for each process (the torchrun contract: rank, world size, rendezvous, run id). Remove it from env.", k)
		case strings.ContainsRune(env[k], 0):
			p.fail("env", "Invalid environment variable", "the value of env key %s contains a NUL character.", k)
		}
	}
	return env
}

func validEnvName(k string) bool {
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// checkpointDir reads checkpoint.dir and checkpoint.interval_minutes.
func (p *reader) checkpointDir() (string, float64) {
	v := p.raw("checkpoint")
	if v == nil {
		return "", 0
	}
	var c map[string]json.RawMessage
	if err := json.Unmarshal(v, &c); err != nil {
		p.fail("checkpoint", "Invalid checkpoint", "checkpoint must be a block with dir and interval_minutes, not %s.", v)
		return "", 0
	}
	sub := &reader{m: c}
	dir := sub.str("dir")
	var interval float64
	if raw, ok := c["interval_minutes"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &interval); err != nil || interval < 0 {
			p.fail("checkpoint", "Invalid checkpoint", "checkpoint.interval_minutes must be a positive number of minutes, not %s.", raw)
		}
	}
	for _, d := range sub.diags {
		d.Attribute, d.Summary, d.Detail = "checkpoint", "Invalid checkpoint", "checkpoint."+d.Detail
		p.diags = append(p.diags, d)
	}
	return dir, interval
}

// layout returns nodes and processes per node (see SpecFromAttrs) and checks them
// against world_size.
func (p *reader) layout(gpusPerNode int) (int, int) {
	nodes := p.whole("nodes", 0, 1)
	ppn := p.whole("processes_per_node", 0, 1)
	world := p.whole("world_size", 0, 0)
	if ppn == 0 && p.raw("processes_per_node") == nil && gpusPerNode > 0 {
		ppn = gpusPerNode
	}
	switch {
	case nodes > 0 && ppn > 0:
	case ppn > 0:
		nodes = max(world/ppn, 1)
	case nodes > 0:
		ppn = max(world/nodes, 1)
	default:
		nodes, ppn = 1, max(world, 1)
	}
	if world > 0 && world != nodes*ppn {
		p.fail("world_size", "World size does not match the layout",
			"world_size is %d, but %d nodes × %d processes per node is %d. Set nodes and processes_per_node so that their product is the world size.",
			world, nodes, ppn, nodes*ppn)
	}
	return nodes, ppn
}
