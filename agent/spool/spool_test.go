package spool

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/agentproto"
)

// delta is a report carrying only the software section; full is the
// same report carrying every section.
func delta(seq uint64) (r, full agentproto.Report) {
	r = agentproto.Report{DeviceID: "dev-1", Seq: seq, SentAt: time.Unix(int64(seq), 0).UTC(),
		Hashes:   map[string]string{"system": "s", "hardware": "h", "network": "n", "software": "w" + string(rune('a'+seq%26))},
		Sections: map[string]json.RawMessage{"software": json.RawMessage(`[{"name":"p"}]`)}}
	full = r
	full.Sections = map[string]json.RawMessage{"system": json.RawMessage(`{}`), "hardware": json.RawMessage(`{}`),
		"network": json.RawMessage(`[]`), "software": json.RawMessage(`[{"name":"p"}]`)}
	return r, full
}

func mustOpen(t *testing.T, dir string, o Options) *Spool {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustAdd(t *testing.T, s *Spool, seq uint64) bool {
	t.Helper()
	r, full := delta(seq)
	folded, _, err := s.Add(r, full)
	if err != nil {
		t.Fatal(err)
	}
	return folded
}

// drain takes every report out, oldest first.
func drain(t *testing.T, s *Spool) []agentproto.Report {
	t.Helper()
	var out []agentproto.Report
	for {
		r, ok, err := s.Oldest()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, r)
		if err := s.Remove(r.Seq); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOrderPreserved(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{})
	for _, seq := range []uint64{9, 10, 2, 11, 100, 1} {
		mustAdd(t, s, seq)
	}
	var got []uint64
	for _, r := range drain(t, s) {
		got = append(got, r.Seq)
	}
	want := []uint64{1, 2, 9, 10, 11, 100}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delivery order %v, want %v", got, want)
		}
	}
	if n, _ := s.Len(); n != 0 {
		t.Errorf("spool not empty after drain: %d", n)
	}
}

func TestBoundedByFilesFoldsIntoNewestFull(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{MaxFiles: 5})
	var foldedAt []uint64
	for seq := uint64(1); seq <= 12; seq++ {
		if mustAdd(t, s, seq) {
			foldedAt = append(foldedAt, seq)
		}
		if n, _ := s.Len(); n > 5 {
			t.Fatalf("after seq %d the spool holds %d reports, bound is 5", seq, n)
		}
	}
	if len(foldedAt) != 2 || foldedAt[0] != 6 || foldedAt[1] != 11 {
		t.Errorf("folded at %v, want [6 11]", foldedAt)
	}
	got := drain(t, s)
	if len(got) != 2 || got[0].Seq != 11 || got[1].Seq != 12 {
		t.Fatalf("after folding the spool holds %d reports starting at %d", len(got), got[0].Seq)
	}
	// The folded report is the newest inventory in full.
	if len(got[0].Sections) != len(agentproto.Sections) {
		t.Errorf("folded report carries %d sections, want all %d", len(got[0].Sections), len(agentproto.Sections))
	}
	if _, want := delta(11); got[0].Hashes["software"] != want.Hashes["software"] {
		t.Errorf("folded report has hashes of another inventory")
	}
	if len(got[1].Sections) != 1 {
		t.Errorf("delta after the fold carries %d sections, want 1", len(got[1].Sections))
	}
}

func TestBoundedByBytes(t *testing.T) {
	r, _ := delta(1)
	data, _ := json.Marshal(r)
	s := mustOpen(t, t.TempDir(), Options{MaxBytes: int64(3*len(data) + 10)})
	for seq := uint64(1); seq <= 10; seq++ {
		mustAdd(t, s, seq)
	}
	entries, _ := s.list()
	var total int64
	for _, e := range entries {
		total += e.size
	}
	// Only a folded full report may exceed the bound on its own.
	if total > s.opt.MaxBytes && len(entries) > 1 {
		t.Errorf("spool holds %d bytes in %d files, bound %d", total, len(entries), s.opt.MaxBytes)
	}
}

func TestSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	for seq := uint64(1); seq <= 3; seq++ {
		mustAdd(t, s, seq)
	}
	// A new process opens the same directory.
	s2 := mustOpen(t, dir, Options{})
	got := drain(t, s2)
	if len(got) != 3 || got[0].Seq != 1 || got[2].Seq != 3 {
		t.Fatalf("after re-open got %d reports", len(got))
	}
	if got[0].DeviceID != "dev-1" || string(got[0].Sections["software"]) != `[{"name":"p"}]` || !got[0].SentAt.Equal(time.Unix(1, 0)) {
		t.Errorf("report changed on disk: %+v", got[0])
	}
}

func TestAtomicWrites(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	mustAdd(t, s, 1)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
		if info, _ := e.Info(); runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	// A crash while writing seq 2 left half a temporary file: it is
	// never delivered and is removed on the next open.
	torn := filepath.Join(dir, tmpPrefix+"123456")
	if err := os.WriteFile(torn, []byte(`{"device_id":"dev-1","seq":2,"sec`), 0o600); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, Options{})
	if _, err := os.Stat(torn); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("torn temporary file still there: %v", err)
	}
	got := drain(t, s)
	if len(got) != 1 || got[0].Seq != 1 {
		t.Errorf("got %d reports, want only seq 1", len(got))
	}
}

func TestCorruptReportIsRemoved(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	mustAdd(t, s, 2)
	if err := os.WriteFile(s.path(1), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Oldest(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Oldest on corrupt file: %v, want ErrCorrupt", err)
	}
	r, ok, err := s.Oldest()
	if err != nil || !ok || r.Seq != 2 {
		t.Errorf("after corrupt file: %v %v %v, want seq 2", r.Seq, ok, err)
	}
}

func TestClear(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{})
	mustAdd(t, s, 1)
	mustAdd(t, s, 2)
	if err := s.Clear(); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Len(); n != 0 {
		t.Errorf("Len after Clear = %d", n)
	}
}

// TestFoldSaysHowManyItReplaced: the agent logs the count, so it must be
// the number of queued reports the full one stands for.
func TestFoldSaysHowManyItReplaced(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{MaxFiles: 3})
	var got []int
	for seq := uint64(1); seq <= 7; seq++ {
		r, full := delta(seq)
		folded, replaced, err := s.Add(r, full)
		if err != nil {
			t.Fatal(err)
		}
		if folded {
			got = append(got, replaced)
		} else if replaced != 0 {
			t.Errorf("seq %d: not folded but replaced %d", seq, replaced)
		}
	}
	// Folds at 4 (replacing 1–3) and at 7 (replacing 4–6).
	if len(got) != 2 || got[0] != 3 || got[1] != 3 {
		t.Errorf("folds replaced %v, want [3 3]", got)
	}
}
