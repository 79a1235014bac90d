package slurm

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/providers/launch"
)

// testJob returns a job in a fresh directory with the given layout and command.
func testJob(t *testing.T, nodes, ppn, maxRestarts int, command ...string) *jobFile {
	t.Helper()
	dir := t.TempDir()
	spec := launch.Spec{Nodes: nodes, ProcsPerNode: ppn, Command: command, MaxRestarts: maxRestarts,
		Env:   map[string]string{"GREETING": "it's a \"test\" $HOME", "PATH": os.Getenv("PATH")},
		RunID: "train-abc123", JobID: "4242", MasterPort: MasterPort("4242"), MasterAddr: "10.0.0.7",
		CheckpointDir: filepath.Join(dir, "ckpt"), WorkDir: dir, CheckpointIntervalMinutes: 2.5}
	return &jobFile{ID: "train-abc123", Address: `training_job.train["x"]`, Spec: spec, dir: dir}
}

// runRank runs rank.sh as Slurm would start the given task.
func runRank(t *testing.T, j *jobFile, node, local, restart int) (string, int) {
	t.Helper()
	return runRankAs(t, j, j.Spec, node, local, restart)
}

// runRankAs runs rank.sh as Slurm would start the given task of a job laid out as s.
func runRankAs(t *testing.T, j *jobFile, s launch.Spec, node, local, restart int) (string, int) {
	t.Helper()
	path := filepath.Join(j.dir, rankScript)
	if err := os.WriteFile(path, []byte(rankWrapper(j)), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path)
	cmd.Dir = j.dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"SLURM_PROCID=" + strconv.Itoa(s.Rank(node, local)), "SLURM_LOCALID=" + strconv.Itoa(local),
		"SLURM_NODEID=" + strconv.Itoa(node), "SLURM_NTASKS=" + strconv.Itoa(s.WorldSize()),
		"SLURM_NNODES=" + strconv.Itoa(s.Nodes), "SLURM_JOB_ID=4242",
		// what the batch script exports
		"MASTER_ADDR=10.0.0.7", "MASTER_PORT=" + strconv.Itoa(MasterPort("4242")), "FABRICA_JOB_ID=4242",
		"TORCHELASTIC_RESTART_COUNT=" + strconv.Itoa(restart),
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func envMap(lines []string) map[string]string {
	m := map[string]string{}
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// TestRankWrapperContract runs rank.sh for every task of a 2 × 3 job and checks that each
// gets exactly the environment launch.Spec.RankEnv renders for its rank.
func TestRankWrapperContract(t *testing.T) {
	j := testJob(t, 2, 3, 2, "env")
	for node := range 2 {
		for local := range 3 {
			out, code := runRank(t, j, node, local, 1)
			if code != 0 {
				t.Fatalf("rank.sh (node %d, local %d) exited %d:\n%s", node, local, code, out)
			}
			got := envMap(strings.Split(out, "\n"))
			for k, want := range envMap(j.Spec.RankEnv(node, local, 1)) {
				if got[k] != want {
					t.Errorf("node %d local %d: %s = %q, want %q", node, local, k, got[k], want)
				}
			}
			if got["PYTHONUNBUFFERED"] != "1" {
				t.Errorf("PYTHONUNBUFFERED = %q, want 1", got["PYTHONUNBUFFERED"])
			}
		}
	}
	exits, err := os.ReadFile(filepath.Join(j.dir, "exits-1"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(exits)), "\n") {
		if f := strings.Fields(l); len(f) == 3 {
			lines = append(lines, f[0]+" "+f[1])
		}
	}
	sort.Strings(lines)
	if strings.Join(lines, ",") != "0 0,1 0,2 0,3 0,4 0,5 0" {
		t.Errorf("exits-1 = %q, want every rank with code 0", exits)
	}
}

func TestRankWrapperFailures(t *testing.T) {
	j := testJob(t, 1, 2, 0, "no-such-program-fabrica", "arg")
	out, code := runRank(t, j, 0, 1, 0)
	if code != 127 || !strings.Contains(out, "fabrica: command not found: no-such-program-fabrica") {
		t.Errorf("missing command: code %d, output %q", code, out)
	}
	j = testJob(t, 1, 2, 0, "sh", "-c", `exit $((RANK + 3))`)
	if _, code := runRank(t, j, 0, 1, 0); code != 4 {
		t.Errorf("rank 1 exited %d, want 4", code)
	}
	if b, _ := os.ReadFile(filepath.Join(j.dir, "exits-0")); !strings.HasPrefix(string(b), "1 4 ") {
		t.Errorf("exits-0 = %q, want rank 1, code 4 and the time", b)
	}
	// A program in the working directory runs by its bare name, as with the local provider.
	if err := os.WriteFile(filepath.Join(j.dir, "hello"), []byte("#!/bin/sh\necho hello from $RANK\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	j.Spec.Command = []string{"hello"}
	if out, code := runRank(t, j, 0, 1, 0); code != 0 || !strings.Contains(out, "hello from 1") {
		t.Errorf("bare program in workdir: code %d, output %q", code, out)
	}
	// Slurm laying the tasks out otherwise than the job says is caught.
	tasks := j.Spec
	j.Spec.ProcsPerNode = 3
	if out, code := runRankAs(t, j, tasks, 0, 1, 0); code != 2 || !strings.Contains(out, "not the layout") {
		t.Errorf("layout mismatch: code %d, output %q", code, out)
	}
}

// fakeSrun runs rank.sh once per task, one after another, and exits with the first
// non-zero code, like srun --kill-on-bad-exit for tasks that end on their own.
const fakeSrun = `#!/bin/bash
prog="${@: -1}"
rc=0
for ((node = 0; node < NODES; node++)); do
  for ((local = 0; local < PPN; local++)); do
    SLURM_PROCID=$((node * PPN + local)) SLURM_LOCALID=$local SLURM_NODEID=$node SLURM_LAUNCH_NODE_IPADDR=10.1.2.3 \
      SLURM_NTASKS=$((NODES * PPN)) SLURM_NNODES=$NODES "$prog" >> "$(dirname "$prog")/rank-$((node * PPN + local)).log" 2>&1
    c=$?
    [ "$rc" = 0 ] && rc=$c
  done
done
exit $rc
`

// runBatch runs job.sbatch with fake srun and scontrol on PATH.
func runBatch(t *testing.T, j *jobFile) int {
	t.Helper()
	bin := t.TempDir()
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bin, "srun"), fakeSrun)
	write(filepath.Join(bin, "scontrol"), "#!/bin/sh\n[ \"$1 $2\" = 'show hostnames' ] && echo node7\n")
	write(filepath.Join(j.dir, rankScript), rankWrapper(j))
	write(filepath.Join(j.dir, scriptFile), batchScript(j, sbatchOptions(config{Partition: "p", TimeLimit: 90 * time.Minute}, j)))
	cmd := exec.Command(filepath.Join(j.dir, scriptFile))
	cmd.Dir = j.dir
	cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "SLURM_JOB_ID=4242", "SLURM_JOB_NODELIST=node7",
		"NODES=" + strconv.Itoa(j.Spec.Nodes), "PPN=" + strconv.Itoa(j.Spec.ProcsPerNode)}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "rendezvous node7:"+strconv.Itoa(MasterPort("4242"))) {
		t.Errorf("batch output does not show the rendezvous at the first node's address:\n%s", out)
	}
	return 0
}

// TestBatchScriptRestarts checks the restart loop: a rank that fails in the first attempt
// only is restarted once and the job succeeds; one that always fails ends the job with
// its code and rank once the restarts are spent.
func TestBatchScriptRestarts(t *testing.T) {
	j := testJob(t, 2, 2, 2, "sh", "-c", `echo "attempt $TORCHELASTIC_RESTART_COUNT rank $RANK master $MASTER_ADDR:$MASTER_PORT"; [ "$RANK" != 2 ] || [ "$TORCHELASTIC_RESTART_COUNT" != 0 ] || exit 5`)
	if code := runBatch(t, j); code != 0 {
		t.Fatalf("batch script exited %d, want 0", code)
	}
	o := readOutcome(j.dir)
	if o.result != StatusSucceeded || o.restarts != 1 || o.lastFailure != "rank 2 exited with code 5" {
		t.Errorf("outcome = %+v, want succeeded after 1 restart of rank 2", o)
	}
	log, _ := os.ReadFile(rankLog(j.dir, 0))
	if !strings.Contains(string(log), "----- fabrica: restart 1 of 2 (rank 2 exited with code 5) -----\nattempt 1 rank 0 master 10.1.2.3:"+strconv.Itoa(MasterPort("4242"))) {
		t.Errorf("rank-0.log does not show the restart:\n%s", log)
	}

	j = testJob(t, 1, 2, 1, "sh", "-c", `[ "$RANK" != 1 ] || exit 3`)
	if code := runBatch(t, j); code != 3 {
		t.Fatalf("batch script exited %d, want 3", code)
	}
	o = readOutcome(j.dir)
	if o.result != StatusFailed || o.restarts != 1 || o.rank == nil || *o.rank != 1 || o.code == nil || *o.code != 3 {
		t.Errorf("outcome = %+v, want failed rank 1 code 3 after 1 restart", o)
	}
	st := statusOf(slurmJob{ID: "4242", State: "FAILED", WaitStatus: 3 << 8}, o)
	if st.Status != StatusFailed || *st.ExitCode != 3 || *st.FailingRank != 1 || st.Message != "rank 1 exited with code 3 after 1 restart" {
		t.Errorf("status = %+v", st)
	}

	j = testJob(t, 1, 1, 3, "no-such-program-fabrica")
	if code := runBatch(t, j); code != 127 {
		t.Fatalf("batch script exited %d, want 127", code)
	}
	if o := readOutcome(j.dir); o.restarts != 0 || o.result != StatusFailed {
		t.Errorf("a missing command was restarted: %+v", o)
	}
}

func TestSbatchOptions(t *testing.T) {
	j := testJob(t, 4, 8, 0, "python3", "train.py")
	j.Spec.GPUsPerNode = 8
	got := strings.Join(sbatchOptions(config{Partition: "gpu", Account: "ml", TimeLimit: 26*time.Hour + 90*time.Second}, j), " ")
	for _, want := range []string{"--job-name=train-abc123", "--nodes=4", "--ntasks-per-node=8", "--gpus-per-node=8",
		"--partition=gpu", "--account=ml", "--time=1-02:01:30", "--no-requeue", "--output=" + filepath.Join(j.dir, batchLog)} {
		if !strings.Contains(got, want) {
			t.Errorf("options %q lack %s", got, want)
		}
	}
	// The cluster's partition (in the job's attributes) wins over the provider's.
	j.Spec.Partition = "h100"
	if got := strings.Join(sbatchOptions(config{Partition: "gpu"}, j), " "); !strings.Contains(got, "--partition=h100") || strings.Contains(got, "--partition=gpu") {
		t.Errorf("options with the cluster's partition h100 = %q", got)
	}
	j.Spec.Partition = ""
	j.Spec.GPUsPerNode = 0
	if got := strings.Join(sbatchOptions(config{}, j), " "); strings.Contains(got, "gpus") || strings.Contains(got, "--partition") || strings.Contains(got, "--time") {
		t.Errorf("options without GPUs or configuration = %q", got)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"plain/path-1.py": "plain/path-1.py", "": "''", "a b": "'a b'", "it's": `'it'\''s'`, "$HOME": "'$HOME'"} {
		if got := shq(in); got != want {
			t.Errorf("shq(%q) = %s, want %s", in, got, want)
		}
		out, err := exec.Command("bash", "-c", "printf %s "+shq(in)).Output()
		if err != nil || string(out) != in {
			t.Errorf("bash read %s back as %q (%v)", shq(in), out, err)
		}
	}
}
