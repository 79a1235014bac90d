package local

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Job statuses (status.json and the status attribute), the same for every scheduler
// provider.
const (
	StatusPending   = launch.StatusPending
	StatusRunning   = launch.StatusRunning
	StatusSucceeded = launch.StatusSucceeded
	StatusFailed    = launch.StatusFailed
	StatusCancelled = launch.StatusCancelled
)

// Files of a job directory.
const (
	specFile       = "spec.json"      // jobFile, written once by the provider (wait may be updated)
	statusFile     = "status.json"    // jobStatus, rewritten atomically on every change
	pidFile        = "supervisor.pid" // the supervisor's pid, as decimal text
	supervisorLog  = "supervisor.log" // the supervisor's stdout and stderr
	checkpointsDir = "checkpoints"    // FABRICA_CHECKPOINT_DIR unless checkpoint.dir is set
	jobFormat      = 1                // format_version of spec.json
	timeLayout     = time.RFC3339     // started_at, finished_at
	startupGrace   = 30 * time.Second // a job without a live supervisor is pending this long
	defaultGrace   = 10 * time.Second // from SIGTERM to SIGKILL
	statusPoll     = 50 * time.Millisecond
)

// The job directory helpers shared with the other scheduler providers (providers/launch).
var (
	final     = launch.Final
	jobsRoot  = launch.JobsRoot
	rankLog   = launch.RankLog
	validID   = launch.ValidJobID
	released  = launch.Released
	release   = launch.Release
	writeJSON = launch.WriteJSON
)

// newJobDir makes the directory of a new job for address and returns its id and
// directory (see launch.NewJobDir).
func newJobDir(workDir, address string) (string, string, error) {
	return launch.NewJobDir(workDir, Kind, address)
}

// idName is the name part of the ids of address's jobs.
func idName(address string) string { return launch.JobIDName(Kind, address) }

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

// JobDir is the directory of a job: WORKDIR/.fabrica/jobs/<job-id>.
func JobDir(workDir, jobID string) string { return launch.JobDir(workDir, jobID) }

// LogPath is the log of one rank of a job: its stdout and stderr, every attempt appended
// after a "fabrica: restart" line.
func LogPath(workDir, jobID string, rank int) string {
	return launch.RankLog(JobDir(workDir, jobID), rank)
}

// readJob reads a job's spec.json.
func readJob(dir string) (*jobFile, error) {
	j := &jobFile{}
	if err := launch.ReadJSON(filepath.Join(dir, specFile), j); err != nil {
		return nil, err
	}
	j.dir = dir
	return j, nil
}

func writeJob(j *jobFile) error { return writeJSON(filepath.Join(j.dir, specFile), j) }

// readStatus reads a job's status.json; a job without one is pending.
func readStatus(dir string) (jobStatus, error) {
	var st jobStatus
	err := launch.ReadJSON(filepath.Join(dir, statusFile), &st)
	if errors.Is(err, fs.ErrNotExist) {
		return jobStatus{Status: StatusPending}, nil
	}
	if err != nil {
		return jobStatus{}, err
	}
	return st, nil
}

func writeStatus(dir string, st jobStatus) error {
	st.UpdatedAt = time.Now().UTC().Format(time.RFC3339Nano)
	return writeJSON(filepath.Join(dir, statusFile), st)
}

func writePID(dir string, pid int) error {
	return launch.WriteAtomic(filepath.Join(dir, pidFile), []byte(strconv.Itoa(pid)+"\n"), 0o644)
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
