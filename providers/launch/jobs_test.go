package launch

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJobIDName(t *testing.T) {
	for addr, want := range map[string]string{
		`training_job.train`:                      "train",
		`training_job.sweep["a"]`:                 "sweep-a",
		`module.x.training_job.t`:                 "module-x-training_job-t",
		`training_job.` + strings.Repeat("a", 50): strings.Repeat("a", 40),
		`training_job.[]`:                         "job",
	} {
		if got := JobIDName("training_job", addr); got != want {
			t.Errorf("JobIDName(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestNewJobDir_released(t *testing.T) {
	dir := t.TempDir()
	id, jd, err := NewJobDir(dir, "training_job", `training_job.sweep["a"]`)
	if err != nil || !strings.HasPrefix(id, "sweep-a-") || jd != JobDir(dir, id) || !ValidJobID(id) {
		t.Fatalf("NewJobDir = %q, %q, %v", id, jd, err)
	}
	if Released(jd) {
		t.Fatal("a new job is released")
	}
	if err := Release(jd); err != nil || !Released(jd) {
		t.Fatalf("Release: %v", err)
	}
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`} {
		if ValidJobID(bad) {
			t.Errorf("ValidJobID(%q) = true", bad)
		}
	}
}

func TestReplaceReason(t *testing.T) {
	prior := map[string]json.RawMessage{AttrJobID: RawJSON("j-1"), AttrStatus: RawJSON(StatusFailed), AttrStatusReason: RawJSON("rank 1 exited with code 3")}
	for _, tc := range []struct {
		replace []string
		want    string
	}{
		{[]string{"command", "env"}, "replaces job j-1: changed command, env"},
		{[]string{AttrStatus}, "replaces job j-1, which failed: rank 1 exited with code 3"},
		{[]string{"command", AttrStatus}, "replaces job j-1, which failed: rank 1 exited with code 3; changed command"},
	} {
		if got := ReplaceReason(prior, tc.replace); got != tc.want {
			t.Errorf("ReplaceReason(%v) = %q, want %q", tc.replace, got, tc.want)
		}
	}
}
