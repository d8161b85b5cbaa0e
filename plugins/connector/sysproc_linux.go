package connector

import (
	"os/exec"
	"syscall"
)

// dieWithHost makes Linux kill the connector when the host dies, even by
// SIGKILL or a crash, when no Kill runs: connectors never outlive the
// server. (The signal follows the thread that started the process; the Go
// runtime does not end threads of goroutines that were never locked.)
func dieWithHost(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
