package connector

// PID returns the process id of a connector that Launch started, so that
// the host can watch its memory; 0 for a connector in the host's own
// process (InProcess) or one that never started.
func PID(c Connector) int {
	if g, ok := c.(*guarded); ok && g.cmd.Process != nil {
		return g.cmd.Process.Pid
	}
	return 0
}
