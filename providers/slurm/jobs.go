package slurm

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Job statuses (the status attribute), the same for every scheduler provider.
const (
	StatusPending   = launch.StatusPending
	StatusRunning   = launch.StatusRunning
	StatusSucceeded = launch.StatusSucceeded
	StatusFailed    = launch.StatusFailed
	StatusCancelled = launch.StatusCancelled
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
	checkpointsDir = "checkpoints"    // FABRICA_CHECKPOINT_DIR unless checkpoint.dir is set
	jobFormat      = 1
)

// The job directory helpers shared with the other scheduler providers (providers/launch).
var (
	final       = launch.Final
	jobsRoot    = launch.JobsRoot
	rankLog     = launch.RankLog
	validID     = launch.ValidJobID
	released    = launch.Released
	release     = launch.Release
	writeJSON   = launch.WriteJSON
	writeAtomic = launch.WriteAtomic
)

// newJobDir makes the directory of a new job for address and returns its id and
// directory (see launch.NewJobDir). The id is also the Slurm job name.
func newJobDir(workDir, address string) (string, string, error) {
	return launch.NewJobDir(workDir, Kind, address)
}

// idName is the name part of the ids of address's jobs.
func idName(address string) string { return launch.JobIDName(Kind, address) }

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

// JobDir is the directory of a job: WORKDIR/.fabrica/jobs/<job-id>, the same layout as
// the local provider's.
func JobDir(workDir, jobID string) string { return launch.JobDir(workDir, jobID) }

// LogPath is the log of one rank of a job: its stdout and stderr, every attempt appended
// after a "fabrica: restart" line.
func LogPath(workDir, jobID string, rank int) string {
	return rankLog(JobDir(workDir, jobID), rank)
}

// readJob reads a job's slurm-job.json.
func readJob(dir string) (*jobFile, error) {
	j := &jobFile{}
	if err := launch.ReadJSON(filepath.Join(dir, jobFileName), j); err != nil {
		return nil, err
	}
	j.dir = dir
	return j, nil
}

func writeJob(j *jobFile) error { return writeJSON(filepath.Join(j.dir, jobFileName), j) }

// readFinal returns the final status recorded in status.json; ok is false when there is
// none.
func readFinal(dir string) (jobStatus, bool) {
	var st jobStatus
	if launch.ReadJSON(filepath.Join(dir, statusFileName), &st) != nil || !final(st.Status) {
		return jobStatus{}, false
	}
	return st, true
}

func writeFinal(dir string, st jobStatus) error {
	return writeJSON(filepath.Join(dir, statusFileName), st)
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
