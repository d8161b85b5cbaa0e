// Package spool keeps agent reports on disk while the server cannot be
// reached and hands them back oldest first.
//
// Each report is one file named by its sequence number, written
// atomically (temporary file, fsync, rename, fsync of the directory), so
// a crash or power cut leaves either the whole report or none of it. The
// spool is bounded: when a new report would exceed the bound, the queued
// reports are folded into one report carrying every section of the
// newest inventory, which the server can always take in place of the
// deltas it replaces.
package spool

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/schulit/cmdb/agentproto"
)

// Default bounds.
const (
	DefaultMaxFiles = 50
	DefaultMaxBytes = 5 << 20
)

// Options bounds the spool. Zero values take the defaults.
type Options struct {
	MaxFiles int   // most queued reports
	MaxBytes int64 // most bytes of queued reports
}

// Spool is a directory of queued reports. Its methods are safe for
// concurrent use within one process; one directory must belong to one
// agent process.
type Spool struct {
	dir string
	opt Options
	mu  sync.Mutex
}

const (
	ext       = ".json"
	tmpPrefix = ".tmp-"
)

// Open opens or creates the spool directory dir (mode 0700) and removes
// temporary files a crash left behind.
func Open(dir string, opt Options) (*Spool, error) {
	if opt.MaxFiles <= 0 {
		opt.MaxFiles = DefaultMaxFiles
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool.Open: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool.Open: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return &Spool{dir: dir, opt: opt}, nil
}

// Dir returns the spool directory.
func (s *Spool) Dir() string { return s.dir }

type entry struct {
	seq  uint64
	size int64
}

// list returns the queued reports by rising seq.
func (s *Spool) list() ([]entry, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, de := range des {
		name := de.Name()
		if !strings.HasSuffix(name, ext) || strings.HasPrefix(name, tmpPrefix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, ext), 10, 64)
		if err != nil {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue
		}
		out = append(out, entry{seq, info.Size()})
	}
	slices.SortFunc(out, func(a, b entry) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return out, nil
}

func (s *Spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, ext))
}

// Len returns the number of queued reports.
func (s *Spool) Len() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.list()
	return len(l), err
}

// Add queues r. full is r carrying every section of the same inventory
// (report.Snapshot.Full); when r would push the spool over its bound,
// full is written instead and every older report is removed. It reports
// whether it folded and how many queued reports the fold replaced.
func (s *Spool) Add(r, full agentproto.Report) (folded bool, replaced int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := json.Marshal(r)
	if err != nil {
		return false, 0, fmt.Errorf("spool.Add %d: %w", r.Seq, err)
	}
	queued, err := s.list()
	if err != nil {
		return false, 0, fmt.Errorf("spool.Add %d: %w", r.Seq, err)
	}
	total := int64(len(data))
	for _, e := range queued {
		total += e.size
	}
	if len(queued)+1 > s.opt.MaxFiles || total > s.opt.MaxBytes {
		folded = true
		if data, err = json.Marshal(full); err != nil {
			return false, 0, fmt.Errorf("spool.Add %d: %w", r.Seq, err)
		}
	}
	if err := s.write(r.Seq, data); err != nil {
		return false, 0, fmt.Errorf("spool.Add %d: %w", r.Seq, err)
	}
	if folded {
		// The full report is on disk before the deltas it replaces go.
		for _, e := range queued {
			if e.seq < r.Seq {
				if err := os.Remove(s.path(e.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return true, replaced, fmt.Errorf("spool.Add %d: fold: %w", r.Seq, err)
				}
				replaced++
			}
		}
		syncDir(s.dir)
	}
	return folded, replaced, nil
}

// write stores data as the report seq, atomically.
func (s *Spool) write(seq uint64, data []byte) error {
	f, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path(seq))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	syncDir(s.dir)
	return nil
}

// syncDir makes a rename or removal durable. Windows cannot sync a
// directory; NTFS journals the rename itself.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// ErrCorrupt marks a queued report that could not be read back; Oldest
// has removed it, since it can never be delivered.
var ErrCorrupt = errors.New("spool: corrupt report removed")

// Oldest returns the queued report with the lowest seq; ok is false when
// the spool is empty.
func (s *Spool) Oldest() (r agentproto.Report, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	queued, err := s.list()
	if err != nil || len(queued) == 0 {
		return agentproto.Report{}, false, err
	}
	p := s.path(queued[0].seq)
	data, err := os.ReadFile(p)
	if err != nil {
		return agentproto.Report{}, false, fmt.Errorf("spool.Oldest: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		_ = os.Remove(p)
		return agentproto.Report{}, false, fmt.Errorf("%w: seq %d: %v", ErrCorrupt, queued[0].seq, err)
	}
	return r, true, nil
}

// Remove drops the report seq, once delivered or refused for good.
func (s *Spool) Remove(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(s.path(seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool.Remove %d: %w", seq, err)
	}
	syncDir(s.dir)
	return nil
}

// Clear removes every queued report, for a re-enrolled agent whose old
// reports belong to another device identity.
func (s *Spool) Clear() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	queued, err := s.list()
	if err != nil {
		return fmt.Errorf("spool.Clear: %w", err)
	}
	for _, e := range queued {
		if err := os.Remove(s.path(e.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool.Clear: %w", err)
		}
	}
	return nil
}
