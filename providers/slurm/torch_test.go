package slurm

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/providers"
)

// python is Debian's interpreter, the one python3-torch is installed for (python3 on PATH
// may be a pyenv or venv one without torch).
const python = "/usr/bin/python3"

// requireTorch skips the test unless Debian's torch imports, or fails it when
// FABRICA_REQUIRE_TORCH=1 (as in CI).
func requireTorch(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import torch.distributed as d; assert d.is_gloo_available()").CombinedOutput(); err != nil {
		if os.Getenv("FABRICA_REQUIRE_TORCH") == "1" {
			t.Fatalf("FABRICA_REQUIRE_TORCH=1 but %s cannot import torch with gloo (%v: %s): run scripts/install-torch.sh (as root)", python, err, out)
		}
		t.Skipf("no torch for %s: run scripts/install-torch.sh, FABRICA_REQUIRE_TORCH=1 to require it", python)
	}
}

// torchExample returns the absolute examples/torch-ddp directory and the torchrun
// command its slurm configuration runs (the strings joined in its command argument).
func torchExample(t *testing.T) (string, string) {
	t.Helper()
	dir, err := filepath.Abs("../../examples/torch-ddp")
	if err != nil {
		t.Fatal(err)
	}
	hcl, err := os.ReadFile(filepath.Join(dir, "slurm", "main.fab.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)join\(" ", \[(.*?)\]\)`).FindSubmatch(hcl)
	if m == nil {
		t.Fatalf("no join(\" \", [...]) command in %s/slurm/main.fab.hcl", dir)
	}
	var words []string
	for _, q := range regexp.MustCompile(`"([^"]*)"`).FindAllSubmatch(m[1], -1) {
		words = append(words, string(q[1]))
	}
	return dir, strings.Join(words, " ")
}

// ddpResult checks the output of a DDP run of world ranks: rank 0's summary says the
// parameters are in sync and the loss fell, and every rank printed the same checksum.
func ddpResult(t *testing.T, out string, world int) {
	t.Helper()
	i := strings.LastIndex(out, "DDP_DONE ")
	if i < 0 {
		t.Fatalf("no DDP_DONE line in the output:\n%s", out)
	}
	var sum struct {
		World     int     `json:"world_size"`
		First     float64 `json:"first_loss"`
		Final     float64 `json:"final_loss"`
		InSync    bool    `json:"params_in_sync"`
		FabricaID *string `json:"fabrica_job_id"`
	}
	line, _, _ := strings.Cut(out[i+len("DDP_DONE "):], "\n")
	if err := json.Unmarshal([]byte(line), &sum); err != nil {
		t.Fatalf("DDP_DONE %s: %v", line, err)
	}
	if sum.World != world || !sum.InSync || sum.Final >= sum.First {
		t.Errorf("DDP summary %+v: want world size %d, parameters in sync and a falling loss", sum, world)
	}
	hashes := map[string]string{}
	for _, m := range regexp.MustCompile(`rank (\d+) params sha256 ([0-9a-f]+)`).FindAllStringSubmatch(out, -1) {
		hashes[m[1]] = m[2]
	}
	if len(hashes) != world {
		t.Errorf("%d ranks printed their parameters, want %d:\n%s", len(hashes), world, out)
	}
	for r, h := range hashes {
		if h != hashes["0"] {
			t.Errorf("rank %s ended with params %s, rank 0 with %s", r, h, hashes["0"])
		}
	}
	t.Logf("DDP world %d: loss %.4f → %.4f, params in sync", sum.World, sum.First, sum.Final)
}

// TestTorchrunDirect runs examples/torch-ddp/ddp.py under torchrun on this machine, with
// no scheduler: 2 workers.
func TestTorchrunDirect(t *testing.T) {
	requireTorch(t)
	dir, _ := torchExample(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(python, "-m", "torch.distributed.run", "--nnodes=1", "--node_rank=0", "--nproc_per_node=2",
		"--master_addr=127.0.0.1", "--master_port="+port, "--monitor_interval=1", "ddp.py", "--steps", "30")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("torchrun: %v\n%s", err, out)
	}
	ddpResult(t, string(out), 2)
}

// TestSlurmTorchDDP runs examples/torch-ddp through the slurm provider as its slurm
// configuration does: one torchrun agent per node on 2 nodes, 2 workers each.
func TestSlurmTorchDDP(t *testing.T) {
	requireTorch(t)
	c := slurmCluster(t)
	nodes := min(c.Nodes, 2)
	dir, command := torchExample(t)
	p, _ := c.provider(t, nil)
	desired := withAttr(t, withAttr(t, jobAttrs("completed", nodes, 1, 0, "bash", "-c", command),
		"workdir", dir), "env", map[string]string{"OMP_NUM_THREADS": "1"})
	events := create(t, p, "training_job.ddp", desired)
	ev := lastEvent(t, events)
	logDir, _ := attr(t, ev.New, attrLogDir).(string)
	var out strings.Builder
	for agent := range nodes {
		b, _ := os.ReadFile(rankLog(logDir, agent))
		out.Write(b)
	}
	if ev.Type != providers.EventDone || attr(t, ev.New, attrStatus) != StatusSucceeded {
		t.Fatalf("final event = %+v (%s)\n%s", ev, ev.New, out.String())
	}
	ddpResult(t, out.String(), 2*nodes)
	if !strings.Contains(strings.Join(logLines(events), "\n"), "DDP_DONE") {
		t.Errorf("the rank-0 log tail in the events lacks DDP_DONE: %q", logLines(events))
	}
}
