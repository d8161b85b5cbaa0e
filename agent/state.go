// Package agent is the device agent of cmdb: it enrols a machine once and
// then reports its inventory on an interval, sending only the sections
// that changed and spooling reports on disk while the server cannot be
// reached.
package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/schulit/cmdb/agentproto"
)

// State is what the agent keeps between runs, in one JSON file of mode
// 0600. Printing or logging a State does not show the credential.
type State struct {
	// Server is the base URL of the cmdb server.
	Server   string
	DeviceID string
	// Credential is the device credential the server gave at enrolment.
	Credential agentproto.Secret
	// IntervalSeconds is the reporting interval the server asked for.
	IntervalSeconds int
	// Seq is the sequence number of the newest report built.
	Seq uint64
	// Ack is the newest sequence number the server acknowledged.
	Ack uint64
	// Acked holds the section hashes of the newest acknowledged report.
	Acked map[string]string
	// Pending holds the section hashes of the newest report sent or
	// spooled but not yet acknowledged; nil when there is none.
	Pending map[string]string
	// WantFull makes the next report carry every section.
	WantFull bool
}

// Enrolled reports whether the state holds a device identity.
func (s State) Enrolled() bool { return s.DeviceID != "" && s.Credential != "" }

// stateFile is State on disk; unlike agentproto.Secret, its credential
// marshals as the real value.
type stateFile struct {
	Server          string            `json:"server"`
	DeviceID        string            `json:"device_id"`
	Credential      string            `json:"credential"`
	IntervalSeconds int               `json:"interval_seconds,omitempty"`
	Seq             uint64            `json:"seq"`
	Ack             uint64            `json:"ack"`
	Acked           map[string]string `json:"acked_hashes,omitempty"`
	Pending         map[string]string `json:"pending_hashes,omitempty"`
	WantFull        bool              `json:"want_full,omitempty"`
}

// ErrNotEnrolled means there is no state file: run enroll first.
var ErrNotEnrolled = errors.New("agent is not enrolled: run 'cmdb-agent enroll --server URL --token T' first")

// LoadState reads the state file at path. A missing file is
// ErrNotEnrolled.
func LoadState(path string) (State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return State{}, ErrNotEnrolled
	}
	if err != nil {
		return State{}, fmt.Errorf("agent.LoadState: %w", err)
	}
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return State{}, fmt.Errorf("agent.LoadState %s: %w", path, err)
	}
	return State{
		Server: f.Server, DeviceID: f.DeviceID, Credential: agentproto.Secret(f.Credential),
		IntervalSeconds: f.IntervalSeconds, Seq: f.Seq, Ack: f.Ack,
		Acked: f.Acked, Pending: f.Pending, WantFull: f.WantFull,
	}, nil
}

// SaveState writes s to path atomically with mode 0600, creating the
// directory (mode 0700) if needed.
func SaveState(path string, s State) error {
	data, err := json.MarshalIndent(stateFile{
		Server: s.Server, DeviceID: s.DeviceID, Credential: s.Credential.Reveal(),
		IntervalSeconds: s.IntervalSeconds, Seq: s.Seq, Ack: s.Ack,
		Acked: s.Acked, Pending: s.Pending, WantFull: s.WantFull,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("agent.SaveState: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("agent.SaveState: %w", err)
	}
	f, err := os.CreateTemp(dir, ".state-*")
	if err != nil {
		return fmt.Errorf("agent.SaveState: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("agent.SaveState: %w", err)
	}
	return nil
}

// SpoolDir returns the spool directory that belongs to a state file: a
// "spool" directory next to it.
func SpoolDir(statePath string) string {
	return filepath.Join(filepath.Dir(statePath), "spool")
}
