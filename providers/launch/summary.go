package launch

import (
	"fmt"
	"hash/fnv"
	"net"
	"sort"
	"strconv"
	"strings"
)

// Rendezvous ports: DefaultPort picks one of PortRange ports from BasePort (torchrun's
// static default), so jobs launched side by side rarely collide.
const (
	BasePort  = 29500
	PortRange = 1000
)

// DefaultPort is the rendezvous port of the job named key (its address): the same key
// always gets the same port, in [BasePort, BasePort+PortRange).
func DefaultPort(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return BasePort + int(h.Sum32()%PortRange)
}

// Redacted replaces an env value that looks secret in Summary.
const Redacted = "(redacted)"

// Summary is the launch as a plan shows it to a reviewer: layout ("2 nodes × 4
// processes"), nodes, processes_per_node, gpus_per_node (when set), world_size,
// rendezvous ("host:port", when known), run_id (when known), max_restarts, command,
// env (secret-looking values redacted), checkpoint_dir and workdir (when set) and image
// (when set). Every value is a string, a whole number, a list of strings or a map of
// strings, so it round-trips through JSON unchanged.
func (s Spec) Summary() map[string]any {
	m := map[string]any{
		"layout":             Layout(s.Nodes, s.ProcsPerNode),
		"nodes":              s.Nodes,
		"processes_per_node": s.ProcsPerNode,
		"world_size":         s.WorldSize(),
		"max_restarts":       s.MaxRestarts,
		"command":            append([]string{}, s.Command...),
	}
	if s.GPUsPerNode > 0 {
		m["gpus_per_node"] = s.GPUsPerNode
	}
	if s.MasterAddr != "" && s.MasterPort > 0 {
		m["rendezvous"] = net.JoinHostPort(s.MasterAddr, strconv.Itoa(s.MasterPort))
	} else if s.MasterPort > 0 {
		m["rendezvous"] = "(first node):" + strconv.Itoa(s.MasterPort)
	}
	if s.RunID != "" {
		m["run_id"] = s.RunID
	}
	if len(s.Env) > 0 {
		// Only the names: values may be secrets, and a plan is read by many.
		keys := make([]string, 0, len(s.Env))
		for k := range s.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m["env_keys"] = keys
	}
	for k, v := range map[string]string{"checkpoint_dir": s.CheckpointDir, "workdir": s.WorkDir, "image": s.Image} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// Layout describes nodes × processes per node in words: "1 node × 2 processes".
func Layout(nodes, ppn int) string {
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	return plural(nodes, "node", "nodes") + " × " + plural(ppn, "process", "processes")
}

// secretWords mark a variable name whose value is a secret.
var secretWords = []string{"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "PRIVATE", "API_KEY", "APIKEY", "ACCESS_KEY", "AUTH", "COOKIE", "SESSION"}

// secretPrefixes start values that are credentials whatever their variable's name.
var secretPrefixes = []string{"ghp_", "gho_", "ghs_", "github_pat_", "hf_", "sk-", "xoxb-", "xoxp-", "AKIA", "ASIA", "glpat-", "-----BEGIN"}

// LooksSecret reports whether an env variable looks like it holds a secret: its name
// contains a word such as TOKEN, SECRET, PASSWORD or API_KEY (or ends in _KEY), or its
// value starts like a well-known credential (ghp_, hf_, sk-, AKIA, a PEM block), or
// embeds a password in a URL (scheme://user:password@host).
func LooksSecret(name, value string) bool {
	up := strings.ToUpper(name)
	for _, w := range secretWords {
		if strings.Contains(up, w) {
			return true
		}
	}
	if strings.HasSuffix(up, "_KEY") || up == "KEY" {
		return true
	}
	for _, p := range secretPrefixes {
		if strings.HasPrefix(value, p) {
			return true
		}
	}
	if i := strings.Index(value, "://"); i >= 0 {
		rest := value[i+3:]
		if at := strings.IndexByte(rest, '@'); at > 0 && strings.Contains(rest[:at], ":") && !strings.Contains(rest[:at], "/") {
			return true
		}
	}
	return false
}
