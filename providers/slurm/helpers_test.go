package slurm

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
)

// envFile is what scripts/slurm-up.sh writes for the tests.
const envFile = "/run/slurm/fabrica-test.env"

// cluster is the test Slurm cluster of scripts/slurm-up.sh.
type cluster struct {
	Conf, Partition, BinDir, Up, Down string
	Nodes, NodeCPUs                   int
	NodeNames                         []string
}

// slurmCluster returns the cluster scripts/slurm-up.sh started. Without one, the test is
// skipped, or fails when FABRICA_REQUIRE_SLURM=1 (as in CI).
func slurmCluster(t testing.TB) *cluster {
	t.Helper()
	f, err := os.Open(envFile)
	if err != nil {
		if os.Getenv("FABRICA_REQUIRE_SLURM") == "1" {
			t.Fatalf("FABRICA_REQUIRE_SLURM=1 but there is no Slurm test cluster (%v): run scripts/slurm-up.sh (as root) first", err)
		}
		t.Skipf("no Slurm test cluster (%s missing): run scripts/slurm-up.sh to start one, FABRICA_REQUIRE_SLURM=1 to require it", envFile)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = strings.Trim(v, `"`)
		}
	}
	c := &cluster{Conf: env["SLURM_CONF"], Partition: env["SLURM_PARTITION"], BinDir: env["SLURM_BIN_DIR"],
		Up: env["SLURM_UP"], Down: env["SLURM_DOWN"], NodeNames: strings.Fields(env["SLURM_NODE_NAMES"])}
	c.Nodes, _ = strconv.Atoi(env["SLURM_NODES"])
	c.NodeCPUs, _ = strconv.Atoi(env["SLURM_NODE_CPUS"])
	if c.Nodes < 1 || c.BinDir == "" {
		t.Fatalf("%s is incomplete: %v; run scripts/slurm-up.sh again", envFile, env)
	}
	if out, err := exec.Command(filepath.Join(c.BinDir, "scontrol"), "ping").CombinedOutput(); err != nil {
		t.Fatalf("the Slurm test cluster does not answer (%v: %s); run scripts/slurm-up.sh", err, out)
	}
	return c
}

// provider returns a slurm provider for the cluster, configured on a fresh working
// directory whose jobs are cancelled, and checked ended, when the test ends.
func (c *cluster) provider(t testing.TB, extra map[string]any) (*provider, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := map[string]any{"partition": c.Partition, "bin_dir": c.BinDir, "slurm_conf": c.Conf,
		"time_limit": "10m", "poll_interval": "100ms", "command_timeout": "20s"}
	for k, v := range extra {
		cfg[k] = v
	}
	p := configured(t, dir, cfg)
	t.Cleanup(func() { cleanupJobs(t, p, dir) })
	return p, dir
}

// configured returns a slurm provider configured on dir.
func configured(t testing.TB, dir string, cfg map[string]any) *provider {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	p := New().(*provider)
	resp := p.Configure(context.Background(), providers.ConfigureRequest{Config: raw, WorkDir: dir})
	if providers.HasErrors(resp.Diagnostics) {
		t.Fatalf("Configure: %v", resp.Diagnostics)
	}
	return p
}

// cleanupJobs cancels every job of dir that Slurm still runs and waits until Slurm
// reports each ended.
func cleanupJobs(t testing.TB, p *provider, dir string) {
	entries, _ := os.ReadDir(jobsRoot(dir))
	_, _, c, _ := p.configured()
	for _, e := range entries {
		j, err := readJob(filepath.Join(jobsRoot(dir), e.Name()))
		if err != nil || j.SlurmID == "" {
			continue
		}
		_ = c.scancel(context.Background(), j.SlurmID)
		deadline := time.Now().Add(60 * time.Second)
		for {
			found, err := c.squeue(context.Background(), "--jobs", []string{j.SlurmID})
			sj, ok := found[j.SlurmID]
			if err == nil && (!ok || final(statusOf(sj, batchOutcome{}).Status)) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("Slurm job %s of %s did not end after scancel (%+v, %v)", j.SlurmID, j.ID, sj, err)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// jobAttrs returns a job's desired attributes as the planner sends them.
func jobAttrs(wait string, nodes, ppn, maxRestarts int, command ...string) providers.Attrs {
	m := map[string]any{"cluster": "training_cluster.slurm", "command": command, "nodes": nodes, "processes_per_node": ppn,
		"max_restarts": maxRestarts, "wait": wait, "world_size": nodes * ppn}
	b, _ := json.Marshal(m)
	return b
}

// withAttr returns attrs with one more attribute.
func withAttr(t testing.TB, attrs providers.Attrs, name string, value any) providers.Attrs {
	t.Helper()
	m, err := decodeObject(attrs)
	if err != nil {
		t.Fatal(err)
	}
	m[name] = rawJSON(value)
	return encodeObject(m)
}

// planNew plans a new job and returns its planned attributes.
func planNew(t testing.TB, p providers.Provider, addr string, desired providers.Attrs) providers.Attrs {
	t.Helper()
	resp := p.Plan(context.Background(), providers.PlanRequest{Items: []providers.PlanItem{{Address: addr, Kind: Kind, Desired: desired}}})
	if providers.HasErrors(resp.Diagnostics) {
		t.Fatalf("Plan: %v", resp.Diagnostics)
	}
	pc := resp.Changes[0]
	if providers.HasErrors(pc.Diagnostics) {
		t.Fatalf("Plan: %v", pc.Diagnostics)
	}
	return pc.Planned
}

// runApply sends the changes and collects every event.
func runApply(ctx context.Context, p providers.Provider, changes ...providers.Change) []providers.Event {
	in := make(chan providers.Change)
	out := make(chan providers.Event, 64)
	var events []providers.Event
	collected := make(chan struct{})
	go func() {
		for e := range out {
			events = append(events, e)
		}
		close(collected)
	}()
	go func() {
		for _, c := range changes {
			in <- c
		}
		close(in)
	}()
	_ = p.Apply(ctx, in, out)
	close(out)
	<-collected
	return events
}

// lastEvent returns the last event, checking it is the only Done or Failed one.
func lastEvent(t testing.TB, events []providers.Event) providers.Event {
	t.Helper()
	n := 0
	for _, e := range events {
		if e.Type == providers.EventDone || e.Type == providers.EventFailed {
			n++
		}
	}
	if n != 1 || len(events) == 0 {
		t.Fatalf("want exactly one final event, got %d in %+v", n, events)
	}
	return events[len(events)-1]
}

// create plans and applies a new job and returns every event.
func create(t testing.TB, p providers.Provider, addr string, desired providers.Attrs) []providers.Event {
	t.Helper()
	planned := planNew(t, p, addr, desired)
	return runApply(context.Background(), p, providers.Change{Address: addr, Kind: Kind, Action: providers.ActionCreate, Planned: planned})
}

// remove applies the deletion of a job and returns its final event.
func remove(t testing.TB, p providers.Provider, addr, id string, prior providers.Attrs) providers.Event {
	t.Helper()
	return lastEvent(t, runApply(context.Background(), p, providers.Change{Address: addr, Kind: Kind, Action: providers.ActionDelete, ID: id, Prior: prior}))
}

// read reads one job.
func read(t testing.TB, p providers.Provider, id string) providers.ReadResult {
	t.Helper()
	resp := p.Read(context.Background(), providers.ReadRequest{Items: []providers.ReadItem{{Address: "training_job.x", Kind: Kind, ID: id}}})
	if len(resp.Diagnostics) > 0 || len(resp.Results) != 1 {
		t.Fatalf("Read: %+v", resp)
	}
	return resp.Results[0]
}

// attr decodes one attribute.
func attr(t testing.TB, attrs providers.Attrs, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(attrs, &m); err != nil {
		t.Fatalf("attributes %s: %v", attrs, err)
	}
	return m[name]
}

// logLines returns the messages of the log events.
func logLines(events []providers.Event) []string {
	var out []string
	for _, e := range events {
		if e.Type == providers.EventLog {
			out = append(out, e.Message)
		}
	}
	return out
}

// readLog returns a rank's log.
func readLog(t testing.TB, dir, id string, rank int) string {
	t.Helper()
	b, _ := os.ReadFile(LogPath(dir, id, rank))
	return string(b)
}
