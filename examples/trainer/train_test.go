package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func fullEnv() map[string]string {
	return map[string]string{
		"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500", "WORLD_SIZE": "4", "RANK": "3",
		"LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2", "GROUP_RANK": "1", "GROUP_WORLD_SIZE": "2",
		"TORCHELASTIC_RESTART_COUNT": "1",
		"FABRICA_JOB_ID":             "job", "FABRICA_RUN_ID": "run", "FABRICA_CHECKPOINT_DIR": "/ck",
	}
}

func TestReadContract(t *testing.T) {
	got, err := readContract(func(k string) string { return fullEnv()[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := contract{
		MasterAddr: "127.0.0.1", MasterPort: 29500, WorldSize: 4, Rank: 3, LocalRank: 1,
		LocalWorldSize: 2, GroupRank: 1, GroupWorldSize: 2, RestartCount: 1,
		JobID: "job", RunID: "run", CheckpointDir: "/ck",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("contract (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name, value, want string // value "" unsets
	}{
		{"MASTER_ADDR", "", "MASTER_ADDR is not set"},
		{"MASTER_PORT", "http", `MASTER_PORT is "http", not an integer`},
		{"MASTER_PORT", "70000", "MASTER_PORT is 70000, want 1..65535"},
		{"WORLD_SIZE", "0", "WORLD_SIZE is 0"},
		{"RANK", "4", "RANK is 4, want 0..3"},
		{"RANK", "", "RANK is not set"},
		{"LOCAL_RANK", "2", "LOCAL_RANK is 2, want 0..1"},
		{"GROUP_RANK", "-1", "GROUP_RANK is -1"},
		{"FABRICA_RUN_ID", "", "FABRICA_RUN_ID is not set"},
		{"FABRICA_CHECKPOINT_DIR", "", "FABRICA_CHECKPOINT_DIR is not set"},
	} {
		env := fullEnv()
		env[tc.name] = tc.value
		_, err := readContract(func(k string) string { return env[k] })
		var ee *envError
		if !errors.As(err, &ee) || ee.Name != tc.name || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: got %v, want an error containing %q", tc.name, tc.value, err, tc.want)
		}
	}
	// Optional variables may be absent.
	env := fullEnv()
	for _, k := range []string{"LOCAL_WORLD_SIZE", "GROUP_RANK", "GROUP_WORLD_SIZE", "TORCHELASTIC_RESTART_COUNT"} {
		delete(env, k)
	}
	if c, err := readContract(func(k string) string { return env[k] }); err != nil || c.GroupRank != -1 || c.RestartCount != -1 {
		t.Errorf("without the optional variables: %+v, %v", c, err)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Steps != 200 || cfg.Features != 16 || cfg.SamplesPerRank != 2000 || cfg.Batch != 64 ||
		cfg.LR != 0.1 || cfg.CheckpointEvery != 50 || cfg.LogEvery != 20 || cfg.Seed != 1 || cfg.Optimizer != "sgd" {
		t.Errorf("defaults: %+v", cfg)
	}
	for _, args := range [][]string{
		{"--optimizer", "lbfgs"}, {"--batch", "5000"}, {"--lr", "0"}, {"--steps", "x"}, {"extra"}, {"--momentum", "1"},
	} {
		var ue *usageError
		if _, err := parseFlags(args, &bytes.Buffer{}); !errors.As(err, &ue) {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
}

// runSolo trains a world of one in this process.
func runSolo(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cfg, err := parseFlags(append([]string{"--steps", "60", "--samples-per-rank", "300", "--checkpoint-every", "20"}, args...), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	env := contract{MasterAddr: "127.0.0.1", MasterPort: 1, WorldSize: 1, JobID: "j", RunID: "r", CheckpointDir: dir,
		LocalWorldSize: -1, GroupRank: -1, GroupWorldSize: -1, RestartCount: -1}
	var out, errw bytes.Buffer
	err = run(cfg, env, newLogger(&out, &errw), &sync.Mutex{})
	return out.String(), err
}

func readFinal(t *testing.T, dir string, rank int) finalState {
	t.Helper()
	var f finalState
	b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("final-rank-%d.json", rank)))
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRun_resumeMatchesUninterrupted: a run killed after its step-40 checkpoint and
// restarted ends with exactly the parameters of a run that was never interrupted.
func TestRun_resumeMatchesUninterrupted(t *testing.T) {
	for _, opt := range []string{"sgd", "adam"} {
		t.Run(opt, func(t *testing.T) {
			straight, broken := t.TempDir(), t.TempDir()
			out, err := runSolo(t, straight, "--optimizer", opt)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			_, err = runSolo(t, broken, "--optimizer", opt, "--fail-at-step", "50", "--fail-once")
			if err == nil || !strings.Contains(err.Error(), "injected failure at step 50") {
				t.Fatalf("first attempt: %v", err)
			}
			// --fail-once: the second attempt does not fail again.
			out2, err := runSolo(t, broken, "--optimizer", opt, "--fail-at-step", "50", "--fail-once")
			if err != nil {
				t.Fatalf("second attempt: %v\n%s", err, out2)
			}
			if !strings.Contains(out2, "resumed from step 40") {
				t.Errorf("second attempt did not resume from step 40:\n%s", out2)
			}
			a, b := readFinal(t, straight, 0), readFinal(t, broken, 0)
			if diff := cmp.Diff(a, b); diff != "" {
				t.Errorf("final state (-uninterrupted +restarted):\n%s", diff)
			}
			if last := func(s string) string { return s[strings.LastIndex(s, "done:"):] }; last(out) != last(out2) {
				t.Errorf("done lines differ: %q vs %q", last(out), last(out2))
			}
		})
	}
}

// TestRun_badCheckpoint: a checkpoint that does not fit the flags is refused with a hint.
func TestRun_badCheckpoint(t *testing.T) {
	dir := t.TempDir()
	if _, err := runSolo(t, dir, "--steps", "20"); err != nil {
		t.Fatal(err)
	}
	_, err := runSolo(t, dir, "--features", "4")
	if err == nil || !strings.Contains(err.Error(), "but --features is 4") || !strings.Contains(err.Error(), "empty FABRICA_CHECKPOINT_DIR") {
		t.Errorf("got %v", err)
	}
	os.WriteFile(filepath.Join(dir, checkpointFile), []byte("{"), 0o644)
	if _, err := runSolo(t, dir); err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Errorf("truncated checkpoint: got %v", err)
	}
}
