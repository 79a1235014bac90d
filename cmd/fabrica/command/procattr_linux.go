//go:build linux

package command

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes a provider process end when fabrica does, even if fabrica is
// killed with SIGKILL and cannot shut it down; an orphaned provider would hold its
// files' locks.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
