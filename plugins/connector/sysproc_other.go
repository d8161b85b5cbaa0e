//go:build !linux

package connector

import "os/exec"

// dieWithHost: only Linux can tie a child's life to its parent's; other
// systems rely on Kill and KillAll.
func dieWithHost(*exec.Cmd) {}
