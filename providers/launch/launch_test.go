package launch

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/google/go-cmp/cmp"
)

func TestSpecFromAttrs_quickstart(t *testing.T) {
	attrs := `{"checkpoint":{"dir":".fabrica/checkpoints/logreg","interval_minutes":1},"cluster":"training_cluster.local",
		"command":["trainer","--steps","200"],"env":{"SEED":"7"},"max_restarts":1,"nodes":1,"processes_per_node":2,
		"wait":"completed","world_size":2,"status":"running","job_id":"x","partition":"cpu"}`
	s, diags := SpecFromAttrs(providers.Attrs(attrs))
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	want := Spec{Nodes: 1, ProcsPerNode: 2, Command: []string{"trainer", "--steps", "200"}, Env: map[string]string{"SEED": "7"},
		CheckpointDir: ".fabrica/checkpoints/logreg", CheckpointIntervalMinutes: 1, MaxRestarts: 1, Wait: WaitCompleted, Partition: "cpu"}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

func TestSpecFromAttrs_layout(t *testing.T) {
	for _, tc := range []struct {
		attrs     string
		nodes     int
		ppn       int
		wantError string // attribute of the expected error
	}{
		{`{"world_size":8,"gpus_per_node":4}`, 2, 4, ""},
		{`{"world_size":8,"nodes":4}`, 4, 2, ""},
		{`{"world_size":6}`, 1, 6, ""},
		{`{}`, 1, 1, ""},
		{`{"nodes":2,"processes_per_node":3}`, 2, 3, ""},
		{`{"nodes":2,"processes_per_node":3,"world_size":5}`, 2, 3, "world_size"},
		{`{"nodes":0}`, 1, 1, "nodes"},
		{`{"processes_per_node":1.5}`, 1, 1, "processes_per_node"},
	} {
		t.Run(tc.attrs, func(t *testing.T) {
			var m map[string]any
			_ = json.Unmarshal([]byte(tc.attrs), &m)
			m["command"] = []string{"true"}
			b, _ := json.Marshal(m)
			s, diags := SpecFromAttrs(b)
			if tc.wantError != "" {
				if len(diags) != 1 || diags[0].Attribute != tc.wantError {
					t.Fatalf("want one error on %s, got %v", tc.wantError, diags)
				}
				return
			}
			if len(diags) > 0 {
				t.Fatalf("diagnostics: %v", diags)
			}
			if s.Nodes != tc.nodes || s.ProcsPerNode != tc.ppn {
				t.Errorf("layout %d×%d, want %d×%d", s.Nodes, s.ProcsPerNode, tc.nodes, tc.ppn)
			}
		})
	}
}

func TestSpecFromAttrs_errors(t *testing.T) {
	for _, tc := range []struct{ attrs, attr, summary string }{
		{`{}`, "command", "Missing command"},
		{`{"command":[]}`, "command", "Empty command"},
		{`{"command":[""]}`, "command", "Empty command"},
		{`{"command":"python3 train.py"}`, "command", "Invalid command"},
		{`{"command":["x"],"env":{"RANK":"3"}}`, "env", "Reserved environment variable"},
		{`{"command":["x"],"env":{"1X":"3"}}`, "env", "Invalid environment variable"},
		{`{"command":["x"],"wait":"forever"}`, "wait", "Invalid wait"},
		{`{"command":["x"],"max_restarts":-1}`, "max_restarts", "Invalid max_restarts"},
		{`{"command":["x"],"checkpoint":{"dir":3}}`, "checkpoint", "Invalid checkpoint"},
		{`[1]`, "", "Invalid job attributes"},
	} {
		_, diags := SpecFromAttrs(providers.Attrs(tc.attrs))
		if len(diags) != 1 || diags[0].Attribute != tc.attr || diags[0].Summary != tc.summary || diags[0].Severity != providers.SeverityError {
			t.Errorf("%s: want one error %q on %q, got %+v", tc.attrs, tc.summary, tc.attr, diags)
		}
	}
}

func TestRankEnv_contract(t *testing.T) {
	s := Spec{Nodes: 2, ProcsPerNode: 2, Command: []string{"x"}, Env: map[string]string{"B": "2", "A": "1"},
		MasterAddr: "10.0.0.1", MasterPort: 29511, RunID: "run-1", JobID: "job-1", CheckpointDir: "/ck", CheckpointIntervalMinutes: 30, MaxRestarts: 3}
	env := s.RankEnv(1, 0, 2)
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	want := map[string]string{
		"A": "1", "B": "2", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29511", "WORLD_SIZE": "4", "RANK": "2",
		"LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "2", "GROUP_RANK": "1", "GROUP_WORLD_SIZE": "2", "ROLE_RANK": "2",
		"ROLE_NAME": "default", "ROLE_WORLD_SIZE": "4", "TORCHELASTIC_RESTART_COUNT": "2",
		"TORCHELASTIC_MAX_RESTARTS": "3", "TORCHELASTIC_RUN_ID": "run-1", "FABRICA_JOB_ID": "job-1",
		"FABRICA_RUN_ID": "run-1", "FABRICA_CHECKPOINT_DIR": "/ck", "FABRICA_CHECKPOINT_INTERVAL_MINUTES": "30",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	if len(env) != len(want) {
		t.Errorf("%d entries, want %d (a key repeats)", len(env), len(want))
	}
	if env[0] != "A=1" || env[1] != "B=2" {
		t.Errorf("user env must come first, sorted: %v", env[:2])
	}
	for _, k := range ContractVars() {
		if _, ok := got[k]; !ok || !IsContractVar(k) {
			t.Errorf("contract variable %s missing", k)
		}
	}
}

func TestSummary(t *testing.T) {
	s := Spec{Nodes: 1, ProcsPerNode: 2, Command: []string{"trainer"}, MasterAddr: "127.0.0.1", MasterPort: 29600,
		Env: map[string]string{"HF_TOKEN": "abc", "LR": "0.1", "DB": "postgres://u:pw@h/db", "X": "hf_abcdef"}, MaxRestarts: 1}
	got := s.Summary()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"command":["trainer"],"env_keys":["DB","HF_TOKEN","LR","X"],` +
		`"layout":"1 node × 2 processes","max_restarts":1,"nodes":1,"processes_per_node":2,"rendezvous":"127.0.0.1:29600","world_size":2}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if Layout(4, 8) != "4 nodes × 8 processes" {
		t.Errorf("Layout(4, 8) = %q", Layout(4, 8))
	}
}

func TestLooksSecret(t *testing.T) {
	for _, name := range []string{"WANDB_API_KEY", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "DB_PASSWORD", "SSH_KEY"} {
		if !LooksSecret(name, "x") {
			t.Errorf("%s should look secret", name)
		}
	}
	for _, name := range []string{"NCCL_IB_HCA", "OMP_NUM_THREADS", "MONKEYS", "LEARNING_RATE"} {
		if LooksSecret(name, "mlx5_0") {
			t.Errorf("%s should not look secret", name)
		}
	}
	if LooksSecret("URL", "https://example.com/a:b@c") {
		t.Error("a URL path with @ is not a password")
	}
}

func TestDefaultPort(t *testing.T) {
	a, b := DefaultPort("training_job.a"), DefaultPort("training_job.b")
	if a != DefaultPort("training_job.a") {
		t.Error("DefaultPort is not deterministic")
	}
	for _, p := range []int{a, b} {
		if p < BasePort || p >= BasePort+PortRange {
			t.Errorf("port %d out of range", p)
		}
	}
	if !slices.Contains(ContractVars(), "MASTER_PORT") {
		t.Error("MASTER_PORT is not in the contract")
	}
}
