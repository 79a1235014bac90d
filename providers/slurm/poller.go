package slurm

import (
	"context"
	"sort"
	"sync"
	"time"
)

// poller coalesces the status queries of concurrent waits into rounds, one every
// interval: whoever asks joins the next round, and a round is one squeue for every job
// asked about, so however many jobs apply waits for, Slurm sees one squeue per interval.
// A waiter that asks again as soon as it has its answer is in every round. A round
// pings slurmctld first when the last ping is older than pingFresh (the ping tells at
// once that slurmctld is down, where squeue retries for 10 to 20 s; pinging every round
// would double the commands, and a squeue that hangs is cut off after pollTimeout).
type poller struct {
	cli      *cli
	interval time.Duration

	mu      sync.Mutex
	waiting map[string][]chan pollResult // Slurm id → askers of the next round
	busy    bool                         // a loop goroutine is running
	pinged  time.Time                    // when a round's ping last succeeded
}

// pollResult is one job's answer: its Slurm record, whether Slurm knows it, or why the
// query failed.
type pollResult struct {
	job   slurmJob
	known bool
	err   error
}

// pollTimeout bounds the poller's commands (below command_timeout when that is longer):
// a squeue that slurmctld stopped answering mid-round retries for 10 to 20 s, and a wait
// should say so sooner.
const pollTimeout = 5 * time.Second

func newPoller(c *cli, interval time.Duration) *poller {
	pc := *c
	pc.timeout = min(c.timeout, pollTimeout)
	return &poller{cli: &pc, interval: interval, waiting: map[string][]chan pollResult{}}
}

// query returns Slurm's record of the job from the next round. The first query after
// an idle spell starts a round at once.
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

// loop runs rounds, one every interval, until a round finds nobody waiting.
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
		start := time.Now()
		jobs, err := p.round(batch, time.Since(p.pinged) < pingFresh)
		for id, chs := range batch {
			j, ok := jobs[id]
			for _, ch := range chs {
				ch <- pollResult{job: j, known: ok, err: err}
			}
		}
		// At least half an interval between rounds, so that the waiters just answered
		// are back in time for the next one even when a round took longer than interval.
		time.Sleep(max(p.interval-time.Since(start), p.interval/2))
	}
}

// round pings slurmctld unless fresh, then reads the batch's jobs with one squeue. Only
// the loop goroutine calls it (and reads and writes p.pinged).
func (p *poller) round(batch map[string][]chan pollResult, fresh bool) (map[string]slurmJob, error) {
	ctx := context.Background()
	if !fresh {
		if err := p.cli.ping(ctx); err != nil {
			p.pinged = time.Time{}
			return nil, err
		}
		p.pinged = time.Now()
	}
	ids := make([]string, 0, len(batch))
	for id := range batch {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	jobs, err := p.cli.squeue(ctx, "--jobs", ids)
	if err != nil {
		p.pinged = time.Time{} // the next round pings
	}
	return jobs, err
}
