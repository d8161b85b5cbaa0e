// Package agenttest is a fake cmdb server speaking the agent protocol,
// for tests of the agent and its command.
package agenttest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/schulit/cmdb/agentproto"
)

// Server is a fake cmdb server. It checks what a real one would check
// (enrolment token, bearer credential, gzip body, section hashes) and
// records what it accepted.
type Server struct {
	// Token is the enrolment token it accepts; Credential the device
	// credential it hands out.
	Token, Credential string
	// DeviceID is the identity it hands out.
	DeviceID string
	// IntervalSeconds goes into every answer.
	IntervalSeconds int

	tb   testing.TB
	addr string
	srv  *httptest.Server

	mu       sync.Mutex
	status   int // answer every request with this status when non-zero
	ack      uint64
	sections map[string]json.RawMessage
	reports  []Received
	enrolls  []Enrolled
	wantFull bool
}

// Received is one report the server accepted.
type Received struct {
	Report agentproto.Report
	// WireBytes is the size of the request body as sent (gzip).
	WireBytes int
}

// Enrolled is one enrolment request as the server read it.
type Enrolled struct {
	Token  string
	System agentproto.InventorySystem
	NICs   []agentproto.InventoryNIC
}

// New starts a fake server; it is closed when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{Token: "enrol-token-4711", Credential: "device-credential-c0ffee-9f8e7d",
		DeviceID: "0b6e1f0c-5d55-4a52-9f3e-6d1c0f6a7b21", IntervalSeconds: 3600,
		tb: tb, sections: map[string]json.RawMessage{}}
	s.srv = httptest.NewServer(s)
	s.addr = s.srv.Listener.Addr().String()
	tb.Cleanup(func() { s.Stop() })
	return s
}

// URL is the server's base URL; it stays the same across Stop and Start.
func (s *Server) URL() string { return "http://" + s.addr }

// Stop closes the server: connections are refused.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Start serves again on the same address after Stop.
func (s *Server) Start() {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.tb.Fatalf("agenttest: listen again on %s: %v", s.addr, err)
	}
	srv := httptest.NewUnstartedServer(s)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
}

// SetStatus makes every request fail with status (503, 429, 400, …);
// 0 restores normal service.
func (s *Server) SetStatus(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// AskFull makes the next answer ask for a full report.
func (s *Server) AskFull() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wantFull = true
}

// Reports returns the reports accepted so far, in arrival order.
func (s *Server) Reports() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.reports...)
}

// Enrolls returns the enrolment requests accepted so far.
func (s *Server) Enrolls() []Enrolled {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Enrolled(nil), s.enrolls...)
}

// Section returns the server's current data of a section.
func (s *Server) Section(name string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sections[name]
}

// ServeHTTP implements the agent API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != 0 {
		http.Error(w, "unavailable", s.status)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/api/v1/agent/enroll":
		s.enroll(w, r)
	case "/api/v1/agent/report":
		s.report(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	// The token comes in the header and is checked before the body.
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		http.Error(w, "invalid enrolment token", http.StatusUnauthorized)
		return
	}
	var wire agentproto.EnrollRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&wire); err != nil {
		http.Error(w, "bad json: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := Enrolled{Token: s.Token, System: wire.System, NICs: wire.NICs}
	s.enrolls = append(s.enrolls, req)
	// Written by hand: agentproto.Secret would marshal as "[redacted]".
	writeJSON(w, map[string]any{"device_id": s.DeviceID, "credential": s.Credential,
		"ci_id": 42, "interval_seconds": s.IntervalSeconds})
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.Credential {
		http.Error(w, "bad credential", http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "want gzip JSON", http.StatusUnsupportedMediaType)
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		http.Error(w, "bad gzip", http.StatusBadRequest)
		return
	}
	var rep agentproto.Report
	if err := json.NewDecoder(zr).Decode(&rep); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	if rep.DeviceID != s.DeviceID {
		http.Error(w, "unknown device", http.StatusForbidden)
		return
	}
	resp := agentproto.ReportResponse{Ack: max(s.ack, rep.Seq), IntervalSeconds: s.IntervalSeconds}
	if rep.Seq > s.ack { // a report already acknowledged is applied once
		s.ack = rep.Seq
		for name, data := range rep.Sections {
			if agentproto.SectionHash(data) != rep.Hashes[name] {
				http.Error(w, "section "+name+" does not match its hash", http.StatusBadRequest)
				return
			}
			s.sections[name] = data
		}
		s.reports = append(s.reports, Received{Report: rep, WireBytes: len(raw)})
	}
	// A hash the server has no data for: ask for everything.
	for name, h := range rep.Hashes {
		if agentproto.SectionHash(s.sections[name]) != h {
			resp.WantFull = true
		}
	}
	if s.wantFull {
		resp.WantFull, s.wantFull = true, false
	}
	writeJSON(w, resp)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
