package slurm

import (
	"context"
	"sort"
	"sync"
)

// poller coalesces the status queries of concurrent waits: whoever asks while a query
// runs joins the next one, so however many jobs apply waits for, there is one scontrol
// ping and one squeue at a time.
type poller struct {
	cli *cli

	mu      sync.Mutex
	waiting map[string][]chan pollResult // Slurm id → askers of the next query
	busy    bool                         // a loop goroutine is running
}

// pollResult is one job's answer: its Slurm record, whether Slurm knows it, or why the
// query failed.
type pollResult struct {
	job   slurmJob
	known bool
	err   error
}

func newPoller(c *cli) *poller {
	return &poller{cli: c, waiting: map[string][]chan pollResult{}}
}

// query returns Slurm's record of the job, from the next squeue that runs.
func (p *poller) query(ctx context.Context, slurmID string) (slurmJob, bool, error) {
	ch := make(chan pollResult, 1)
	p.mu.Lock()
	p.waiting[slurmID] = append(p.waiting[slurmID], ch)
	start := !p.busy
	p.busy = true
	p.mu.Unlock()
	if start {
		go p.loop()
	}
	select {
	case r := <-ch:
		return r.job, r.known, r.err
	case <-ctx.Done():
		return slurmJob{}, false, ctx.Err()
	}
}

// loop answers the waiting queries, one batch at a time, until none is left.
func (p *poller) loop() {
	for {
		p.mu.Lock()
		batch := p.waiting
		if len(batch) == 0 {
			p.busy = false
			p.mu.Unlock()
			return
		}
		p.waiting = map[string][]chan pollResult{}
		p.mu.Unlock()
		ids := make([]string, 0, len(batch))
		for id := range batch {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		jobs, err := p.cli.jobs(context.Background(), ids)
		for id, chs := range batch {
			j, ok := jobs[id]
			for _, ch := range chs {
				ch <- pollResult{job: j, known: ok, err: err}
			}
		}
	}
}

// jobs pings slurmctld (which fails at once when it is down, where squeue retries for
// seconds) and then reads the jobs with one squeue.
func (c *cli) jobs(ctx context.Context, slurmIDs []string) (map[string]slurmJob, error) {
	if err := c.ping(ctx); err != nil {
		return nil, err
	}
	return c.squeue(ctx, "--jobs", slurmIDs)
}
