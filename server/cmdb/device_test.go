package cmdb_test

import (
	"encoding/json"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

// TestApplyReport: replays are answered with the seq kept, sent sections
// replace their hashes, and a differing hash of a section not sent asks
// for a full report.
func TestApplyReport(t *testing.T) {
	d := &cmdb.Device{LastSeq: 4, Hashes: map[string]string{cmdb.SectionSystem: "s1", cmdb.SectionSoftware: "w1"}}
	steps := []struct {
		name string
		r    cmdb.Report
		want cmdb.ReportResult
		hash string // the system hash kept afterwards
	}{
		{"replay", cmdb.Report{Seq: 4, Hashes: map[string]string{cmdb.SectionSystem: "zz"}}, cmdb.ReportResult{Ack: 4}, "s1"},
		{"heartbeat", cmdb.Report{Seq: 5, Hashes: map[string]string{cmdb.SectionSystem: "s1", cmdb.SectionSoftware: "w1"}}, cmdb.ReportResult{Ack: 5, Applied: true}, "s1"},
		{"delta", cmdb.Report{Seq: 6, Hashes: map[string]string{cmdb.SectionSystem: "s2", cmdb.SectionSoftware: "w1"}, Sections: map[string]json.RawMessage{cmdb.SectionSystem: json.RawMessage(`{}`)}},
			cmdb.ReportResult{Ack: 6, Applied: true}, "s2"},
		{"lacking", cmdb.Report{Seq: 7, Hashes: map[string]string{cmdb.SectionSystem: "s2", cmdb.SectionSoftware: "w9"}}, cmdb.ReportResult{Ack: 7, Applied: true, WantFull: true}, "s2"},
	}
	for _, st := range steps {
		if got := d.ApplyReport(&st.r); got != st.want || d.Hashes[cmdb.SectionSystem] != st.hash {
			t.Errorf("%s: %+v, system hash %q; want %+v, %q", st.name, got, d.Hashes[cmdb.SectionSystem], st.want, st.hash)
		}
	}
	if d.LastSeq != 7 {
		t.Errorf("last seq %d, want 7", d.LastSeq)
	}
}
