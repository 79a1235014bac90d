package views

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Job is one training job as `fabrica jobs` shows it.
type Job struct {
	Address  string
	Provider string
	ID       string
	Gone     bool
	Attrs    json.RawMessage
}

// Jobs prints a table of jobs: address, scheduler, id, status, age, and what happened.
func Jobs(w io.Writer, jobs []Job, now time.Time) {
	if len(jobs) == 0 {
		fmt.Fprintln(w, "No training jobs in state.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tSCHEDULER\tJOB ID\tSTATUS\tAGE\tDETAIL")
	for _, j := range jobs {
		var a struct {
			Status       string `json:"status"`
			StartedAt    string `json:"started_at"`
			StatusReason string `json:"status_reason"`
			ExitCode     *int   `json:"exit_code"`
		}
		_ = json.Unmarshal(j.Attrs, &a)
		status, age, detail := a.Status, "-", a.StatusReason
		if j.Gone {
			status, detail = "gone", "the scheduler no longer knows this job"
		}
		if t, err := time.Parse(time.RFC3339, a.StartedAt); err == nil {
			age = now.Sub(t).Round(time.Second).String()
		}
		if detail == "" && a.ExitCode != nil {
			detail = fmt.Sprintf("exit code %d", *a.ExitCode)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.Address, j.Provider, j.ID, status, age, detail)
	}
	tw.Flush()
}
