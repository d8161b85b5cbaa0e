package agent

import (
	"os"
	"path/filepath"
)

// DefaultStatePath is /Library/Application Support/cmdb-agent/state.json
// for root, else the same below the user's home.
func DefaultStatePath() string {
	dir := "/Library/Application Support"
	if os.Geteuid() != 0 {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, dir)
		}
	}
	return filepath.Join(dir, "cmdb-agent", "state.json")
}
