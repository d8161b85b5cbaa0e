// Package report turns an inventory into agent reports: it splits the
// inventory into sections, hashes them, picks the sections the server
// does not have yet, and encodes a report for the wire.
package report

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/schulit/cmdb/agentproto"
)

// Snapshot is an inventory split into sections: the JSON of each section
// and its agentproto.SectionHash.
type Snapshot struct {
	Sections map[string]json.RawMessage
	Hashes   map[string]string
}

// Take splits inv into its sections (agentproto.Sections) and hashes each.
func Take(inv agentproto.Inventory) (Snapshot, error) {
	parts := map[string]any{
		agentproto.SectionSystem:   inv.System,
		agentproto.SectionHardware: inv.Hardware,
		agentproto.SectionNetwork:  inv.Network,
		agentproto.SectionSoftware: inv.Software,
	}
	s := Snapshot{Sections: map[string]json.RawMessage{}, Hashes: map[string]string{}}
	for _, name := range agentproto.Sections {
		data, err := json.Marshal(parts[name])
		if err != nil {
			return Snapshot{}, fmt.Errorf("report.Take %s: %w", name, err)
		}
		s.Sections[name] = data
		s.Hashes[name] = agentproto.SectionHash(data)
	}
	return s, nil
}

// Changed returns the sections to send, in agentproto.Sections order: all of
// them when full is true, otherwise those whose hash differs from the
// acknowledged hashes or from pending, the hashes of the newest report
// sent or spooled but not yet acknowledged. Comparing with pending too
// keeps a queue of reports correct when a section changes and changes
// back before the server has seen either report.
func (s Snapshot) Changed(acked, pending map[string]string, full bool) []string {
	var out []string
	for _, name := range agentproto.Sections {
		h := s.Hashes[name]
		if full || acked[name] != h || (pending != nil && pending[name] != h) {
			out = append(out, name)
		}
	}
	return out
}

// Report builds the report with sequence number seq that carries the
// sections Changed picks. SentAt is at in UTC, whole seconds.
func (s Snapshot) Report(deviceID string, seq uint64, at time.Time, acked, pending map[string]string, full bool) agentproto.Report {
	r := agentproto.Report{
		DeviceID: deviceID,
		Seq:      seq,
		SentAt:   at.UTC().Truncate(time.Second),
		Hashes:   maps.Clone(s.Hashes),
	}
	for _, name := range s.Changed(acked, pending, full) {
		if r.Sections == nil {
			r.Sections = map[string]json.RawMessage{}
		}
		r.Sections[name] = s.Sections[name]
	}
	return r
}

// Full returns r carrying every section of s: what a spool folds its
// queued reports into.
func (s Snapshot) Full(r agentproto.Report) agentproto.Report {
	r.Hashes = maps.Clone(s.Hashes)
	r.Sections = maps.Clone(s.Sections)
	return r
}

// Encode returns r as gzip-compressed JSON, the body of a report request
// (Content-Encoding: gzip).
func Encode(r agentproto.Report) ([]byte, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("report.Encode: %w", err)
	}
	return Gzip(data)
}

// Gzip compresses data at the best compression: reports are small and
// sent rarely, so bytes on the wire matter more than CPU.
func Gzip(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
