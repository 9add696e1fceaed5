//go:build linux

package host

import (
	"os/exec"
	"syscall"
)

// dieWithParent asks Linux to SIGKILL the ranker when the host dies, even
// by SIGKILL, so that no ranker outlives the server.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
