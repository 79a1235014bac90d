package launch

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

	"github.com/fabrica-iac/fabrica/internal/atomicfile"
)

// Job statuses (the status attribute). Every scheduler provider reports the same ones,
// so plans, `fabrica jobs` and policies read a job alike whatever ran it.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Final reports whether a status is final: the job will not change any more.
func Final(status string) bool {
	return status == StatusSucceeded || status == StatusFailed || status == StatusCancelled
}

// StatusReason says why a job is in its status: the provider's message, with where to
// look when a rank failed. It is shared so that every provider points at the same
// `fabrica logs` command.
func StatusReason(address, status, message string, failingRank *int) string {
	if status == StatusFailed && failingRank != nil {
		message += fmt.Sprintf(" (see fabrica logs %s --rank %d)", address, *failingRank)
	}
	return message
}

// Job directories. Every scheduler provider keeps a job in WORKDIR/.fabrica/jobs/<job-id>
// with one rank-N.log per rank, so `fabrica jobs` and `fabrica logs` find its files the
// same way whatever ran it. The job file itself is the provider's, under a name of its
// own, so that no provider mistakes another's jobs for its own.
const (
	releasedFile   = "released" // present once fabrica deleted the job
	idSuffixBytes  = 3          // random bytes at the end of a job id
	maxIDNameRunes = 40         // of the address part of a job id
)

// JobsRoot is WORKDIR/.fabrica/jobs.
func JobsRoot(workDir string) string { return filepath.Join(workDir, ".fabrica", "jobs") }

// JobDir is the directory of a job: WORKDIR/.fabrica/jobs/<job-id>.
func JobDir(workDir, jobID string) string { return filepath.Join(JobsRoot(workDir), jobID) }

// RankLog is the log of one rank in a job directory: its stdout and stderr, every
// attempt appended after a "fabrica: restart" line.
func RankLog(dir string, rank int) string {
	return filepath.Join(dir, "rank-"+strconv.Itoa(rank)+".log")
}

// ValidJobID reports whether id can name a job directory. Ids come from state and from
// the command line, so one that would reach outside the jobs directory names no job.
func ValidJobID(id string) bool {
	return id != "" && id != "." && id != ".." && !strings.ContainsAny(id, `/\`) && !strings.ContainsRune(id, 0)
}

// NewJobDir makes the directory of a new job for address and returns its id and
// directory. The id is JobIDName and a random hex suffix, so a reader of `fabrica jobs`
// can tell whose job it is, and a replacement never reuses the directory of the job it
// replaces.
func NewJobDir(workDir, kind, address string) (id, dir string, err error) {
	if err := os.MkdirAll(JobsRoot(workDir), 0o755); err != nil {
		return "", "", err
	}
	name := JobIDName(kind, address)
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
	return "", "", fmt.Errorf("cannot find a free job id under %s", JobsRoot(workDir))
}

// JobIDName is the name part of the ids of address's jobs: the address without its kind,
// made file-safe ("training_job.sweep[\"a\"]" → "sweep-a"). Providers look for earlier
// jobs of an address by this prefix.
func JobIDName(kind, address string) string {
	name := strings.TrimPrefix(address, kind+".")
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

// WriteAtomic replaces path with data (see internal/atomicfile), so a reader (another
// fabrica, a supervisor, a batch script) sees the old or the new content, never a part.
func WriteAtomic(path string, data []byte, mode os.FileMode) error {
	return atomicfile.WriteBytes(path, mode, data)
}

// WriteJSON writes v as indented JSON with WriteAtomic: job files are read by people too.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteAtomic(path, append(b, '\n'), 0o644)
}

// ReadJSON reads the JSON file path into v. A file that cannot be read gives os's error
// (so callers can tell a missing file); one that cannot be decoded names the file.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Released reports whether fabrica deleted the job in dir. A deleted job's directory is
// kept for its logs, so the marker, not the directory, says the job is gone.
func Released(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, releasedFile))
	return err == nil
}

// Release marks the job in dir deleted (see Released), recording when.
func Release(dir string) error {
	return WriteAtomic(filepath.Join(dir, releasedFile), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}
