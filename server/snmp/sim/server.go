package sim

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// DefaultMaxMessageSize is the largest UDP payload over IPv4.
	DefaultMaxMessageSize = 65507
	// minMaxMessageSize is the size every SNMP entity must accept
	// (RFC 3417 §3.2).
	minMaxMessageSize = 484
	// MaxDevice is the largest N of a NAME@N community.
	MaxDevice = 1<<24 - 1
	// maxReportedErrors caps the malformed lines listed in Start's error.
	maxReportedErrors = 50
)

// Options configure Start.
type Options struct {
	// DataDir holds the *.snmprec files; each is one device, its
	// community the file name without the extension.
	DataDir string
	// Listen is the UDP address, such as 127.0.0.1:1161; empty:
	// 127.0.0.1:0, a free port (see Addr).
	Listen string
	// Logger gets start-up and diagnostic messages; nil: none.
	Logger *slog.Logger
	// Lenient skips malformed data lines with a warning instead of
	// failing Start.
	Lenient bool
	// MaxMessageSize bounds every response, in bytes (484 to 65507);
	// 0: DefaultMaxMessageSize.
	MaxMessageSize int
	// Workers is the number of goroutines answering requests; 0:
	// GOMAXPROCS, at least 2.
	Workers int
}

// Stats counts what a Server has seen since it started.
type Stats struct {
	Requests         uint64 // well-formed requests on a known community
	Responses        uint64 // responses sent
	Malformed        uint64 // packets that are not an SNMP v1/v2c request
	UnknownCommunity uint64 // well-formed requests on an unknown community
}

// Server is a running simulator. Its methods are safe for concurrent use.
type Server struct {
	log     *slog.Logger
	conn    *net.UDPConn
	data    map[string]*dataset
	names   []string
	maxMsg  int
	workers []*worker
	wg      sync.WaitGroup
	stop    func() bool

	closeOnce sync.Once
	closeErr  error
}

// dataset is the data of one device file.
type dataset struct {
	oids [][]uint32 // recs[i].oid, kept apart for a compact binary search
	recs []record
}

// worker holds the buffers of one answering goroutine.
type worker struct {
	in   []byte
	out  []byte
	req  request
	cols []bulkColumn

	requests, responses, malformed, unknown atomic.Uint64
}

func newWorker(maxMsg int) *worker {
	return &worker{in: make([]byte, 65536), out: make([]byte, 0, maxMsg+512)}
}

// bulkColumn is the walk state of one GetBulk repeater.
type bulkColumn struct {
	next int    // index of the next record
	name []byte // OID TLV for an endOfMibView in this column
}

// Start loads every *.snmprec file in opts.DataDir and answers SNMP on
// opts.Listen until Close is called or ctx is cancelled.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("snmp simulator: no data directory")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxMsg := opts.MaxMessageSize
	if maxMsg == 0 {
		maxMsg = DefaultMaxMessageSize
	}
	if maxMsg < minMaxMessageSize || maxMsg > DefaultMaxMessageSize {
		return nil, fmt.Errorf("snmp simulator: max message size %d not within %d to %d", maxMsg, minMaxMessageSize, DefaultMaxMessageSize)
	}
	nworkers := opts.Workers
	if nworkers <= 0 {
		nworkers = max(2, runtime.GOMAXPROCS(0))
	}
	data, names, err := loadDir(opts.DataDir, opts.Lenient, log)
	if err != nil {
		return nil, err
	}
	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", listen)
	if err != nil {
		return nil, fmt.Errorf("snmp simulator: %w", err)
	}
	conn, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return nil, fmt.Errorf("snmp simulator: %s is not a UDP address", listen)
	}
	// Room for bursts from many pollers; the kernel may cap it lower.
	_ = conn.SetReadBuffer(4 << 20)
	_ = conn.SetWriteBuffer(4 << 20)
	s := &Server{log: log, conn: conn, data: data, names: names, maxMsg: maxMsg}
	for range nworkers {
		w := newWorker(maxMsg)
		s.workers = append(s.workers, w)
		s.wg.Add(1)
		go s.serve(w)
	}
	s.stop = context.AfterFunc(ctx, func() { s.Close() })
	log.Info("snmp simulator listening", "addr", s.Addr(), "devices", len(names), "workers", nworkers)
	return s, nil
}

// Addr returns the UDP address the server listens on.
func (s *Server) Addr() string { return s.conn.LocalAddr().String() }

// Communities returns the communities of the data files, sorted. Each
// also answers with an @N suffix (see the package doc).
func (s *Server) Communities() []string { return slices.Clone(s.names) }

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	var st Stats
	for _, w := range s.workers {
		w.addStats(&st)
	}
	return st
}

func (w *worker) addStats(st *Stats) {
	st.Requests += w.requests.Load()
	st.Responses += w.responses.Load()
	st.Malformed += w.malformed.Load()
	st.UnknownCommunity += w.unknown.Load()
}

// Close stops the server and waits for its workers. Calling it again
// does nothing.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			s.stop()
		}
		s.closeErr = s.conn.Close()
		s.wg.Wait()
	})
	return s.closeErr
}

func (s *Server) serve(w *worker) {
	defer s.wg.Done()
	for {
		n, addr, err := s.conn.ReadFromUDPAddrPort(w.in)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("snmp simulator: read", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if resp := s.answer(w, w.in[:n]); resp != nil {
			if _, err := s.conn.WriteToUDPAddrPort(resp, addr); err == nil {
				w.responses.Add(1)
			} else if !errors.Is(err, net.ErrClosed) {
				s.log.Debug("snmp simulator: write", "to", addr, "err", err)
			}
		}
	}
}

// answer is handle, but a bug in it costs one answer, not the process.
func (s *Server) answer(w *worker, pkt []byte) (resp []byte) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("snmp simulator: handler panicked", "panic", v, "packet", hex.EncodeToString(pkt))
			resp = nil
		}
	}()
	return s.handle(w, pkt)
}

// handle answers one packet. The response it returns is in w's buffer,
// valid until the next call; nil means no answer.
func (s *Server) handle(w *worker, pkt []byte) []byte {
	r := &w.req
	if !parseRequest(pkt, r) {
		w.malformed.Add(1)
		return nil
	}
	d, dev := s.lookup(r.community)
	if d == nil {
		w.unknown.Add(1)
		if s.log.Enabled(context.Background(), slog.LevelDebug) {
			s.log.Debug("snmp simulator: unknown community", "community", string(r.community))
		}
		return nil
	}
	w.requests.Add(1)
	// Room for the message header, written backwards once the varbinds
	// are in: at most 27 bytes plus the community and the request-id.
	head := 32 + len(r.community) + len(r.reqID)
	if head >= s.maxMsg {
		return nil
	}
	b := w.out[:head]
	var status, index int
	switch {
	case r.pdu == pduSet:
		// A read-only community: noAccess (v1 has only noSuchName).
		status = errNoAccess
		if r.version == versionV1 {
			status = errNoSuchName
		}
		if len(r.vbs) > 0 {
			index = 1
		}
		b = append(b, r.vbl...)
	case r.pdu == pduGetBulk:
		b, status = s.getBulk(b, w, d, dev)
	case r.version == versionV1:
		b, status, index = s.getV1(b, r, d, dev)
	default:
		b, status = s.getV2(b, r, d, dev)
	}
	if status == errNoSuchName && r.pdu != pduSet {
		// A v1 error response carries the request's varbinds unchanged.
		b = append(b[:head], r.vbl...)
	}
	if status == errTooBig || len(b) > s.maxMsg {
		status, index, b = errTooBig, 0, b[:head]
	}
	w.out = b[:0]
	return finish(b, head, r, status, index)
}

// lookup finds the data set of a community, and the device number of a
// NAME@N community (0 for the file's own device).
func (s *Server) lookup(community []byte) (*dataset, uint32) {
	if d := s.data[string(community)]; d != nil {
		return d, 0
	}
	at := bytes.LastIndexByte(community, '@')
	if at < 0 {
		return nil, 0
	}
	digits := community[at+1:]
	if len(digits) == 0 || len(digits) > 8 || digits[0] == '0' {
		return nil, 0
	}
	var n uint32
	for _, c := range digits {
		if c < '0' || c > '9' {
			return nil, 0
		}
		n = n*10 + uint32(c-'0')
	}
	if n > MaxDevice {
		return nil, 0
	}
	d := s.data[string(community[:at])]
	if d == nil {
		return nil, 0
	}
	return d, n
}

// getV2 answers a v2c Get or GetNext.
func (s *Server) getV2(b []byte, r *request, d *dataset, dev uint32) ([]byte, int) {
	for i := range r.vbs {
		oid := r.oid(i)
		k, found := d.search(oid)
		switch {
		case r.pdu == pduGet && found:
			b = appendRecord(b, &d.recs[k], dev)
		case r.pdu == pduGet:
			b = appendException(b, r.vbs[i].name, d.missTag(oid, k))
		default:
			if found {
				k++
			}
			if k < len(d.recs) {
				b = appendRecord(b, &d.recs[k], dev)
			} else {
				b = appendException(b, r.vbs[i].name, tagEndOfMibView)
			}
		}
		if len(b) > s.maxMsg {
			return b, errTooBig
		}
	}
	return b, errNoError
}

// getV1 answers a v1 Get or GetNext: a miss is a noSuchName error, and
// Counter64 values and recorded exceptions do not exist.
func (s *Server) getV1(b []byte, r *request, d *dataset, dev uint32) ([]byte, int, int) {
	for i := range r.vbs {
		k, found := d.search(r.oid(i))
		if r.pdu == pduGet {
			if !found || !v1Visible(&d.recs[k]) {
				return b, errNoSuchName, i + 1
			}
		} else {
			if found {
				k++
			}
			for k < len(d.recs) && !v1Visible(&d.recs[k]) {
				k++
			}
			if k == len(d.recs) {
				return b, errNoSuchName, i + 1
			}
		}
		b = appendRecord(b, &d.recs[k], dev)
		if len(b) > s.maxMsg {
			return b, errTooBig, 0
		}
	}
	return b, errNoError, 0
}

func v1Visible(r *record) bool { return r.tag != tagCounter64 && r.tag < tagNoSuchObject }

// getBulk answers a GetBulk (RFC 3416 §4.2.3), truncated to fit the
// maximum message size.
func (s *Server) getBulk(b []byte, w *worker, d *dataset, dev uint32) ([]byte, int) {
	r := &w.req
	nonRep := int(min(max(r.a, 0), int64(len(r.vbs))))
	maxRep := max(r.b, 0)
	n := 0 // varbinds in the response
	for i := range nonRep {
		mark := len(b)
		if k := d.next(r.oid(i)); k < len(d.recs) {
			b = appendRecord(b, &d.recs[k], dev)
		} else {
			b = appendException(b, r.vbs[i].name, tagEndOfMibView)
		}
		if len(b) > s.maxMsg {
			return bulkDone(b[:mark], n, len(r.vbs))
		}
		n++
	}
	cols := w.cols[:0]
	for i := nonRep; i < len(r.vbs); i++ {
		cols = append(cols, bulkColumn{next: d.next(r.oid(i)), name: r.vbs[i].name})
	}
	w.cols = cols
	for rep := int64(0); rep < maxRep && len(cols) > 0; rep++ {
		allEnd := true
		for j := range cols {
			c := &cols[j]
			mark := len(b)
			if c.next < len(d.recs) {
				rec := &d.recs[c.next]
				b = appendRecord(b, rec, dev)
				c.name = rec.name()
				c.next++
				allEnd = false
			} else {
				b = appendException(b, c.name, tagEndOfMibView)
			}
			if len(b) > s.maxMsg {
				return bulkDone(b[:mark], n, len(r.vbs))
			}
			n++
		}
		if allEnd {
			break
		}
	}
	return b, errNoError
}

// bulkDone ends a truncated GetBulk response: tooBig if not even one
// varbind fits, so that a client does not loop on empty answers.
func bulkDone(b []byte, n, asked int) ([]byte, int) {
	if n == 0 && asked > 0 {
		return b, errTooBig
	}
	return b, errNoError
}

// finish writes the message header in front of the varbinds in
// b[head:] and returns the whole message.
func finish(b []byte, head int, r *request, status, index int) []byte {
	end := len(b)
	p := putHeader(b, head, tagSequence, end-head)
	p = putInt(b, p, int64(index))
	p = putInt(b, p, int64(status))
	p -= len(r.reqID)
	copy(b[p:], r.reqID)
	p = putHeader(b, p, pduResponse, end-p)
	p -= len(r.community)
	copy(b[p:], r.community)
	p = putHeader(b, p, tagOctetString, len(r.community))
	p = putInt(b, p, r.version)
	p = putHeader(b, p, tagSequence, end-p)
	return b[p:end]
}

// appendRecord appends the varbind of rec as device dev sees it.
func appendRecord(b []byte, rec *record, dev uint32) []byte {
	if dev == 0 || rec.vary == varyNone {
		return append(b, rec.vb...)
	}
	switch rec.vary {
	case varySuffix:
		var num [10]byte
		digits := strconv.AppendUint(num[:0], uint64(dev), 10)
		name := rec.name()
		n := len(rec.value) + 1 + len(digits)
		b = appendHeader(b, tagSequence, len(name)+1+lenLen(n)+n)
		b = append(b, name...)
		b = appendHeader(b, rec.tag, n)
		b = append(b, rec.value...)
		b = append(b, '-')
		return append(b, digits...)
	case varyMAC:
		v := rec.value
		x := (uint32(v[3])<<16 | uint32(v[4])<<8 | uint32(v[5]) + dev) & 0xffffff
		b = append(b, rec.vb[:rec.valOff]...) // same length: header and name unchanged
		return append(b, tagOctetString, 6, v[0], v[1], v[2], byte(x>>16), byte(x>>8), byte(x))
	}
	return append(b, rec.vb...)
}

// appendException appends a varbind of name (an OID TLV) with an
// exception value: noSuchObject, noSuchInstance or endOfMibView.
func appendException(b, name []byte, tag byte) []byte {
	b = appendHeader(b, tagSequence, len(name)+2)
	b = append(b, name...)
	return append(b, tag, 0)
}

// search returns the index of the first record not below oid, and
// whether it is oid.
func (d *dataset) search(oid []uint32) (int, bool) {
	lo, hi := 0, len(d.oids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compareOID(d.oids[m], oid) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(d.oids) && compareOID(d.oids[lo], oid) == 0
}

// next returns the index of the first record after oid.
func (d *dataset) next(oid []uint32) int {
	k, found := d.search(oid)
	if found {
		k++
	}
	return k
}

// missTag chooses the exception for a Get of an OID that is not
// recorded, k being where it would be: noSuchInstance when the OID is a
// prefix of a record (an object asked without its instance) or a
// sibling of one (another instance of a recorded object: sysDescr.1
// beside sysDescr.0, ifDescr.9 beside ifDescr.2), noSuchObject
// otherwise. Siblings are looked for among the neighbours, which is
// where they sort.
func (d *dataset) missTag(oid []uint32, k int) byte {
	parent := oid[:len(oid)-1]
	sibling := func(o []uint32) bool { return len(o) == len(oid) && hasPrefix(o, parent) }
	if k < len(d.oids) && (hasPrefix(d.oids[k], oid) || sibling(d.oids[k])) || k > 0 && sibling(d.oids[k-1]) {
		return tagNoSuchInstance
	}
	return tagNoSuchObject
}

// loadDir reads every *.snmprec file in dir.
func loadDir(dir string, lenient bool, log *slog.Logger) (map[string]*dataset, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("snmp simulator: %w", err)
	}
	data := make(map[string]*dataset)
	var names []string
	var errs []error
	for _, e := range entries {
		community, ok := strings.CutSuffix(e.Name(), ".snmprec")
		if !ok || community == "" || e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		recs, bad, err := parseFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(bad) > 0 {
			if !lenient {
				errs = append(errs, bad...)
				continue
			}
			for _, e := range bad {
				log.Warn("snmp simulator: skipping malformed line", "err", e)
			}
		}
		d := &dataset{recs: recs, oids: make([][]uint32, len(recs))}
		for i := range recs {
			d.oids[i] = recs[i].oid
		}
		data[community] = d
		names = append(names, community)
	}
	if len(errs) > maxReportedErrors {
		more := len(errs) - maxReportedErrors
		errs = append(errs[:maxReportedErrors], fmt.Errorf("… and %d more", more))
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("snmp simulator: malformed data (lenient mode, --lenient, skips such lines):\n%w", errors.Join(errs...))
	}
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("snmp simulator: no *.snmprec files in %s", dir)
	}
	slices.Sort(names)
	return data, names, nil
}

func parseFile(path string) ([]record, []error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return parseSnmprec(f, path)
}
