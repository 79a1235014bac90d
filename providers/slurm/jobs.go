package slurm

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Job statuses (the status attribute), the same as the local provider's.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Files of a job directory. The names differ from the local provider's (spec.json), so
// neither provider mistakes the other's jobs for its own.
const (
	jobFileName    = "slurm-job.json" // jobFile: written before sbatch, again with the Slurm id
	statusFileName = "status.json"    // jobStatus, written once the job is final
	scriptFile     = "job.sbatch"     // the batch script
	rankScript     = "rank.sh"        // the per-rank wrapper srun starts
	batchLog       = "batch.log"      // the batch script's output (srun's messages)
	resultFile     = "result"         // the batch script's last word: "succeeded" or "failed RANK CODE"
	restartsFile   = "restarts"       // one "ATTEMPT RANK CODE" line per restart
	releasedFile   = "released"       // present once fabrica deleted the job
	checkpointsDir = "checkpoints"    // FABRICA_CHECKPOINT_DIR unless checkpoint.dir is set
	jobFormat      = 1
	idSuffixBytes  = 3
	maxIDNameRunes = 40
)

// final reports whether a status is final: the job will not change any more.
func final(status string) bool {
	return status == StatusSucceeded || status == StatusFailed || status == StatusCancelled
}

// jobFile is slurm-job.json: what was submitted and what the provider reports.
type jobFile struct {
	FormatVersion int         `json:"format_version"`
	ID            string      `json:"id"`
	Address       string      `json:"address"`
	CreatedAt     time.Time   `json:"created_at"`
	Spec          launch.Spec `json:"spec"`
	// SlurmID is Slurm's job id, "" until sbatch answered.
	SlurmID string `json:"slurm_job_id,omitempty"`
	// SubmittedAt is when sbatch answered.
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	// Launch is the launch attribute (Spec.Summary plus the Slurm settings).
	Launch json.RawMessage `json:"launch"`
	// Attrs are the job's arguments.
	Attrs json.RawMessage `json:"attrs"`

	dir string // the job directory, not stored
}

// jobStatus is a job's status as the provider reports it; status.json keeps it once
// final, so a finished job is read without asking Slurm.
type jobStatus struct {
	Status      string `json:"status"`
	ExitCode    *int   `json:"exit_code,omitempty"`
	FailingRank *int   `json:"failing_rank,omitempty"`
	Restarts    int    `json:"restarts"`
	StartedAt   string `json:"started_at,omitempty"`
	FinishedAt  string `json:"finished_at,omitempty"`
	NodeList    string `json:"nodelist,omitempty"`
	Message     string `json:"message,omitempty"`
	// SlurmState is Slurm's state name (COMPLETED, TIMEOUT, ...), when known.
	SlurmState string `json:"slurm_state,omitempty"`
	// Stuck is true for a pending job Slurm will not start unless someone changes it or
	// the cluster (see stuckReasons).
	Stuck bool `json:"-"`
}

// jobsRoot is WORKDIR/.fabrica/jobs.
func jobsRoot(workDir string) string { return filepath.Join(workDir, ".fabrica", "jobs") }

// JobDir is the directory of a job: WORKDIR/.fabrica/jobs/<job-id>, the same layout as
// the local provider's.
func JobDir(workDir, jobID string) string { return filepath.Join(jobsRoot(workDir), jobID) }

// LogPath is the log of one rank of a job: its stdout and stderr, every attempt appended
// after a "fabrica: restart" line.
func LogPath(workDir, jobID string, rank int) string {
	return rankLog(JobDir(workDir, jobID), rank)
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
// random hex suffix. The id is also the Slurm job name.
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

// writeAtomic replaces path with data through a temporary file and a rename.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), mode)
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
	return writeAtomic(path, append(b, '\n'), 0o644)
}

// readJob reads a job's slurm-job.json.
func readJob(dir string) (*jobFile, error) {
	b, err := os.ReadFile(filepath.Join(dir, jobFileName))
	if err != nil {
		return nil, err
	}
	j := &jobFile{}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, jobFileName), err)
	}
	j.dir = dir
	return j, nil
}

func writeJob(j *jobFile) error { return writeJSON(filepath.Join(j.dir, jobFileName), j) }

// readFinal returns the final status recorded in status.json; ok is false when there is
// none.
func readFinal(dir string) (jobStatus, bool) {
	b, err := os.ReadFile(filepath.Join(dir, statusFileName))
	if err != nil {
		return jobStatus{}, false
	}
	var st jobStatus
	if json.Unmarshal(b, &st) != nil || !final(st.Status) {
		return jobStatus{}, false
	}
	return st, true
}

func writeFinal(dir string, st jobStatus) error {
	return writeJSON(filepath.Join(dir, statusFileName), st)
}

func released(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, releasedFile))
	return err == nil
}

func release(dir string) error {
	return writeAtomic(filepath.Join(dir, releasedFile), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// load reads a job. gone is true when there is no such job or fabrica deleted it.
func load(workDir, id string) (j *jobFile, gone bool, err error) {
	if !validID(id) {
		return nil, true, nil
	}
	dir := JobDir(workDir, id)
	j, err = readJob(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return j, released(dir), nil
}
