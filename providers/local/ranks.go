package local

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// rankExit is the end of one rank's process.
type rankExit struct {
	rank int
	code int    // exit code, 128+signal when killed by a signal
	desc string // "rank 1 exited with code 3", "rank 0 was killed by signal 9 (killed)"
	at   time.Time
}

// failureWindow is how long the supervisor waits, after a rank fails, for other ranks'
// exits: when one rank's death makes its peers fail too, their exits arrive in any order,
// and the earliest is the cause to report.
const failureWindow = 150 * time.Millisecond

// attempt starts every rank, each leading its own process group (so a signal to the
// group reaches whatever the rank started), and watches them to the end.
func (s *supervisor) attempt(prog string, base []string, restart int) outcome {
	if s.pendingCancel() {
		return outcome{cancelled: true}
	}
	spec := s.job.Spec
	exits := make(chan rankExit, spec.WorldSize())
	pids := make([]int, 0, spec.WorldSize())
	for node := range spec.Nodes {
		for local := range spec.ProcsPerNode {
			rank := spec.Rank(node, local)
			cmd, err := s.startRank(prog, base, node, local, restart)
			if err != nil {
				s.terminate(pids, exits, len(pids))
				return outcome{rank: rank, startErr: fmt.Errorf("cannot start rank %d: %w", rank, err)}
			}
			pids = append(pids, cmd.Process.Pid)
			go func() {
				e := exitOf(rank, cmd.Wait(), cmd.ProcessState)
				e.at = time.Now()
				exits <- e
			}()
		}
	}
	s.st.Status, s.st.PIDs, s.st.Restarts = StatusRunning, pids, restart
	if s.st.StartedAt == "" {
		s.st.StartedAt = now()
	}
	s.write()
	logf("attempt %d: started %d ranks, pids %v", restart, len(pids), pids)
	return s.watch(pids, exits)
}

// startRank starts one rank in the job's workdir, its stdout and stderr appended to its
// log.
func (s *supervisor) startRank(prog string, base []string, node, local, restart int) (*exec.Cmd, error) {
	spec := s.job.Spec
	rank := spec.Rank(node, local)
	logFile, err := os.OpenFile(rankLog(s.dir, rank), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	if restart > 0 {
		fmt.Fprintf(logFile, "----- fabrica: restart %d of %d (%s) -----\n", restart, spec.MaxRestarts, s.st.Message)
	}
	env := append(append([]string{}, base...), spec.RankEnv(node, local, restart)...)
	cmd := &exec.Cmd{
		Path: prog, Args: spec.Command, Env: env, Dir: spec.WorkDir,
		Stdout: logFile, Stderr: logFile, // nil stdin is /dev/null
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

// exitOf describes how a rank ended.
func exitOf(rank int, err error, ps *os.ProcessState) rankExit {
	if ps == nil {
		return rankExit{rank: rank, code: 1, desc: fmt.Sprintf("rank %d could not be waited for: %v", rank, err)}
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sig := ws.Signal()
		return rankExit{rank: rank, code: 128 + int(sig), desc: fmt.Sprintf("rank %d was killed by signal %d (%v)", rank, int(sig), sig)}
	}
	code := ps.ExitCode()
	return rankExit{rank: rank, code: code, desc: fmt.Sprintf("rank %d exited with code %d", rank, code)}
}

// watch waits until every rank exited 0, one failed, or a cancel signal came; then it
// stops whatever is left of the group.
func (s *supervisor) watch(pids []int, exits chan rankExit) outcome {
	running := len(pids)
	for {
		select {
		case e := <-exits:
			running--
			if e.code != 0 {
				e, running = firstFailure(e, exits, running)
				logf("%s; stopping the other ranks", e.desc)
				s.terminate(pids, exits, running)
				return outcome{rank: e.rank, code: e.code, desc: e.desc}
			}
			if running == 0 {
				s.terminate(pids, exits, 0) // whatever the ranks left behind
				return outcome{rank: -1}
			}
		case <-s.sigs:
			s.cancelled = true
			logf("cancel requested; stopping the ranks")
			s.terminate(pids, exits, running)
			return outcome{cancelled: true}
		}
	}
}

// terminate stops the ranks' process groups: SIGTERM, then SIGKILL to the groups still
// alive after the job's kill grace. It returns once the running ranks have been reaped
// and no group has a member left (or the grace is over and SIGKILL was sent).
func (s *supervisor) terminate(pgids []int, exits <-chan rankExit, running int) {
	signalGroups(pgids, syscall.SIGTERM)
	deadline := time.NewTimer(s.job.grace())
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for running > 0 || groupsAlive(pgids) {
		select {
		case <-exits:
			running--
		case <-tick.C:
		case <-deadline.C:
			logf("ranks still running after %v; sending SIGKILL", s.job.grace())
			signalGroups(pgids, syscall.SIGKILL)
			for ; running > 0; running-- {
				<-exits
			}
			return
		}
	}
}

func signalGroups(pgids []int, sig syscall.Signal) {
	for _, pgid := range pgids {
		if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			logf("cannot signal process group %d: %v", pgid, err)
		}
	}
}

// groupsAlive reports whether any process group still has a member that has not exited.
// A zombie does not count: a rank's orphaned child that died waits for init to reap it,
// which some container inits do late or never.
func groupsAlive(pgids []int) bool {
	member := false
	for _, pgid := range pgids {
		if syscall.Kill(-pgid, 0) == nil {
			member = true
			break
		}
	}
	if !member || !procFS {
		return member
	}
	return liveInGroups(pgids)
}

// firstFailure collects the exits that follow a failure within failureWindow and returns
// the earliest failure, with the number of ranks still running.
func firstFailure(first rankExit, exits <-chan rankExit, running int) (rankExit, int) {
	timer := time.NewTimer(failureWindow)
	defer timer.Stop()
	for running > 0 {
		select {
		case e := <-exits:
			running--
			if e.code != 0 && e.at.Before(first.at) {
				first = e
			}
		case <-timer.C:
			return first, running
		}
	}
	return first, running
}
