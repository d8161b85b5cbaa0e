//go:build !linux && !windows && !darwin

package agent

import (
	"os"
	"path/filepath"
)

// DefaultStatePath is /var/lib/cmdb-agent/state.json for root, else
// ~/.local/state/cmdb-agent/state.json.
func DefaultStatePath() string {
	if os.Geteuid() == 0 {
		return "/var/lib/cmdb-agent/state.json"
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "state", "cmdb-agent", "state.json")
}
