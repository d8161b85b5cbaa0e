package agent

import (
	"os"
	"path/filepath"
)

// DefaultStatePath is %ProgramData%\cmdb-agent\state.json.
func DefaultStatePath() string {
	pd := os.Getenv("ProgramData")
	if pd == "" {
		pd = `C:\ProgramData`
	}
	return filepath.Join(pd, "cmdb-agent", "state.json")
}
