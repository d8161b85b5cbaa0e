package agent

import (
	"os"
	"path/filepath"
)

// DefaultStatePath is /var/lib/cmdb-agent/state.json for root, else
// $XDG_STATE_HOME/cmdb-agent/state.json or
// ~/.local/state/cmdb-agent/state.json.
func DefaultStatePath() string {
	if os.Geteuid() == 0 {
		return "/var/lib/cmdb-agent/state.json"
	}
	return userStatePath()
}

func userStatePath() string {
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "cmdb-agent", "state.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "state.json"
	}
	return filepath.Join(home, ".local", "state", "cmdb-agent", "state.json")
}
