package local

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Job statuses (status.json and the status attribute).
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Files of a job directory.
const (
	specFile       = "spec.json"      // jobFile, written once by the provider (wait may be updated)
	statusFile     = "status.json"    // jobStatus, rewritten atomically on every change
	pidFile        = "supervisor.pid" // the supervisor's pid, as decimal text
	supervisorLog  = "supervisor.log" // the supervisor's stdout and stderr
	releasedFile   = "released"       // present once fabrica deleted the job
	checkpointsDir = "checkpoints"    // FABRICA_CHECKPOINT_DIR unless checkpoint.dir is set
	jobFormat      = 1                // format_version of spec.json
	timeLayout     = time.RFC3339     // started_at, finished_at
	startupGrace   = 30 * time.Second // a job without a live supervisor is pending this long
	idSuffixBytes  = 3                // random bytes at the end of a job id
	maxIDNameRunes = 40               // of the address part of a job id
	defaultGrace   = 10 * time.Second // from SIGTERM to SIGKILL
	statusPoll     = 50 * time.Millisecond
)

// final reports whether a status is final: the job will not change any more.
func final(status string) bool {
	return status == StatusSucceeded || status == StatusFailed || status == StatusCancelled
}

// jobFile is spec.json: what the supervisor launches and what the provider reports.
type jobFile struct {
	FormatVersion int         `json:"format_version"`
	ID            string      `json:"id"`
	Address       string      `json:"address"`
	CreatedAt     time.Time   `json:"created_at"`
	Spec          launch.Spec `json:"spec"`
	// KillGraceMS is the time from SIGTERM to SIGKILL when ranks are stopped.
	KillGraceMS int64 `json:"kill_grace_ms"`
	// Attrs are the job's arguments and its launch-time computed attributes (job_id,
	// log_dir, launch); the status attributes are added from status.json.
	Attrs json.RawMessage `json:"attrs"`

	dir string // the job directory, not stored
}

// grace is the kill grace of the job.
func (j *jobFile) grace() time.Duration {
	if j.KillGraceMS <= 0 {
		return defaultGrace
	}
	return time.Duration(j.KillGraceMS) * time.Millisecond
}

// jobStatus is status.json, written by the supervisor (and by the provider when the
// supervisor is gone).
type jobStatus struct {
	Status      string `json:"status"`
	ExitCode    *int   `json:"exit_code,omitempty"`
	FailingRank *int   `json:"failing_rank,omitempty"`
	Restarts    int    `json:"restarts"`
	StartedAt   string `json:"started_at,omitempty"`
	FinishedAt  string `json:"finished_at,omitempty"`
	// PIDs are the ranks' pids, by rank, while they run (each leads its process group).
	PIDs       []int  `json:"pids,omitempty"`
	Supervisor int    `json:"supervisor_pid,omitempty"`
	Message    string `json:"message,omitempty"`
	UpdatedAt  string `json:"updated_at,omitempty"`
}

// jobsRoot is WORKDIR/.fabrica/jobs.
func jobsRoot(workDir string) string { return filepath.Join(workDir, ".fabrica", "jobs") }

// JobDir is the directory of a job: WORKDIR/.fabrica/jobs/<job-id>.
func JobDir(workDir, jobID string) string { return filepath.Join(jobsRoot(workDir), jobID) }

// LogPath is the log of one rank of a job: its stdout and stderr, every attempt appended
// after a "fabrica: restart" line.
func LogPath(workDir, jobID string, rank int) string {
	return filepath.Join(JobDir(workDir, jobID), "rank-"+strconv.Itoa(rank)+".log")
}

func rankLog(dir string, rank int) string {
	return filepath.Join(dir, "rank-"+strconv.Itoa(rank)+".log")
}

// validID reports whether id can name a job directory.
func validID(id string) bool {
	return id != "" && id != "." && id != ".." && !strings.ContainsAny(id, `/\`) && !strings.ContainsRune(id, 0)
}

// newJobDir makes the directory of a new job for address and returns its id: the
// address's name part made file-safe ("training_job.sweep[\"a\"]" → "sweep-a") and a
// random hex suffix.
func newJobDir(workDir, address string) (string, string, error) {
	if err := os.MkdirAll(jobsRoot(workDir), 0o755); err != nil {
		return "", "", err
	}
	name := idName(address)
	for range 10 {
		var b [idSuffixBytes]byte
		_, _ = rand.Read(b[:])
		id := name + "-" + hex.EncodeToString(b[:])
		dir := JobDir(workDir, id)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return id, dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", "", err
		}
	}
	return "", "", fmt.Errorf("cannot find a free job id under %s", jobsRoot(workDir))
}

func idName(address string) string {
	name := strings.TrimPrefix(address, Kind+".")
	var b strings.Builder
	dash := false
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
		if ok {
			b.WriteRune(c)
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = !ok
	}
	s := strings.TrimRight(b.String(), "-")
	if r := []rune(s); len(r) > maxIDNameRunes {
		s = strings.TrimRight(string(r[:maxIDNameRunes]), "-")
	}
	if s == "" {
		s = "job"
	}
	return s
}

// writeAtomic replaces path with data through a temporary file and a rename, so a
// reader sees the old or the new content, never a part.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}

// readJob reads a job's spec.json.
func readJob(dir string) (*jobFile, error) {
	b, err := os.ReadFile(filepath.Join(dir, specFile))
	if err != nil {
		return nil, err
	}
	j := &jobFile{}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, specFile), err)
	}
	j.dir = dir
	return j, nil
}

func writeJob(j *jobFile) error { return writeJSON(filepath.Join(j.dir, specFile), j) }

// readStatus reads a job's status.json; a job without one is pending.
func readStatus(dir string) (jobStatus, error) {
	b, err := os.ReadFile(filepath.Join(dir, statusFile))
	if errors.Is(err, fs.ErrNotExist) {
		return jobStatus{Status: StatusPending}, nil
	}
	if err != nil {
		return jobStatus{}, err
	}
	var st jobStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return jobStatus{}, fmt.Errorf("%s: %w", filepath.Join(dir, statusFile), err)
	}
	return st, nil
}

func writeStatus(dir string, st jobStatus) error {
	st.UpdatedAt = time.Now().UTC().Format(time.RFC3339Nano)
	return writeJSON(filepath.Join(dir, statusFile), st)
}

func writePID(dir string, pid int) error {
	return writeAtomic(filepath.Join(dir, pidFile), []byte(strconv.Itoa(pid)+"\n"))
}

// readPID returns the supervisor's pid, 0 when unknown.
func readPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func released(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, releasedFile))
	return err == nil
}

func release(dir string) error {
	return writeAtomic(filepath.Join(dir, releasedFile), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"))
}

// JobInfo describes one job of a working directory, for `fabrica jobs`.
type JobInfo struct {
	ID      string
	Address string
	// Status is pending, running, succeeded, failed or cancelled; Reason says why a job
	// failed or was restarted.
	Status string
	Reason string
	// CreatedAt is when the job was submitted, Age the time since.
	CreatedAt time.Time
	Age       time.Duration
	// StartedAt and FinishedAt are zero until the job started or finished.
	StartedAt, FinishedAt time.Time
	ExitCode              *int
	FailingRank           *int
	Restarts              int
	WorldSize             int
	// SupervisorPID and PIDs (one per rank) are set while the job runs.
	SupervisorPID int
	PIDs          []int
	// Dir holds spec.json, status.json and the rank-N.log files.
	Dir string
	// Released is true once fabrica deleted the job (its directory is kept for its logs).
	Released bool
}

// Jobs lists the jobs of a working directory, oldest first. A job whose supervisor died
// before it finished is reported failed. Directories that are not jobs are skipped.
func Jobs(workDir string) ([]JobInfo, error) {
	workDir, err := filepath.Abs(workDir) // supervisors are known by absolute job directories
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(jobsRoot(workDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []JobInfo
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		j, err := readJob(filepath.Join(jobsRoot(workDir), e.Name()))
		if err != nil {
			continue
		}
		st, err := observe(j, false)
		if err != nil {
			st = jobStatus{Status: StatusPending, Message: err.Error()}
		}
		out = append(out, jobInfo(j, st, now))
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].CreatedAt.Equal(out[b].CreatedAt) {
			return out[a].CreatedAt.Before(out[b].CreatedAt)
		}
		return out[a].ID < out[b].ID
	})
	return out, nil
}

func jobInfo(j *jobFile, st jobStatus, now time.Time) JobInfo {
	info := JobInfo{
		ID: j.ID, Address: j.Address, Status: st.Status, Reason: reasonText(j.Address, st),
		CreatedAt: j.CreatedAt, Age: now.Sub(j.CreatedAt), ExitCode: st.ExitCode, FailingRank: st.FailingRank,
		Restarts: st.Restarts, WorldSize: j.Spec.WorldSize(), Dir: j.dir, Released: released(j.dir),
	}
	info.StartedAt, _ = time.Parse(timeLayout, st.StartedAt)
	info.FinishedAt, _ = time.Parse(timeLayout, st.FinishedAt)
	if !final(st.Status) {
		info.SupervisorPID, info.PIDs = st.Supervisor, st.PIDs
	}
	return info
}
