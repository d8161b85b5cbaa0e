package sim

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const devData = `1.3.6.1.2.1.1.1.0|4|first
1.3.6.1.2.1.1.5.0|4|name
1.3.6.1.2.1.2.2.1.2.1|4|lo
1.3.6.1.2.1.2.2.1.2.2|4|eth0
1.3.6.1.2.1.2.2.1.6.1|4|
1.3.6.1.2.1.2.2.1.6.2|4x|001122fffffe
1.3.6.1.2.1.31.1.1.1.6.2|70|5
1.3.6.1.2.1.43.5.1.1.17.1|4|SER
1.3.6.1.2.1.47.1.1.1.1.11.1|4|ENT
1.3.6.1.4.1.9.1|2|-3
`

// devOIDs are the OIDs of devData in order.
var devOIDs = []string{
	"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.2.2.1.2.1", "1.3.6.1.2.1.2.2.1.2.2",
	"1.3.6.1.2.1.2.2.1.6.1", "1.3.6.1.2.1.2.2.1.6.2", "1.3.6.1.2.1.31.1.1.1.6.2",
	"1.3.6.1.2.1.43.5.1.1.17.1", "1.3.6.1.2.1.47.1.1.1.1.11.1", "1.3.6.1.4.1.9.1",
}

// harness answers requests in-process, without a socket.
type harness struct {
	t *testing.T
	s *Server
	w *worker
}

func newHarness(t *testing.T, opts Options) *harness {
	if opts.DataDir == "" {
		opts.DataDir = writeData(t, map[string]string{"dev.snmprec": devData})
	}
	s := start(t, opts)
	return &harness{t: t, s: s, w: newWorker(s.maxMsg)}
}

// do sends a request and decodes the answer; nil means no answer.
func (h *harness) do(version int64, community string, pdu byte, a, b int64, oids ...string) *response {
	h.t.Helper()
	var parsed [][]uint32
	for _, o := range oids {
		parsed = append(parsed, mustOID(h.t, o))
	}
	const reqID = 0x1234567
	pkt := h.s.handle(h.w, buildRequest(version, community, pdu, reqID, a, b, parsed...))
	if pkt == nil {
		return nil
	}
	if len(pkt) > h.s.maxMsg {
		h.t.Fatalf("response of %d bytes exceeds %d", len(pkt), h.s.maxMsg)
	}
	r := decodeResponse(h.t, slices.Clone(pkt))
	if r.version != version || r.community != community || r.pdu != pduResponse || r.reqID != reqID {
		h.t.Fatalf("response header %+v", r)
	}
	return &r
}

func (h *harness) vbs(r *response) []string {
	h.t.Helper()
	if r == nil {
		h.t.Fatal("no answer")
	}
	var out []string
	for _, vb := range r.vbs {
		out = append(out, vb.String())
	}
	return out
}

func (h *harness) expect(r *response, status, index int64, want ...string) {
	h.t.Helper()
	got := h.vbs(r)
	if r.status != status || r.index != index || !slices.Equal(got, want) {
		h.t.Errorf("got status %d index %d\n  %s\nwant status %d index %d\n  %s",
			r.status, r.index, strings.Join(got, "\n  "), status, index, strings.Join(want, "\n  "))
	}
}

func TestGet(t *testing.T) {
	h := newHarness(t, Options{})
	h.expect(h.do(versionV2c, "dev", pduGet, 0, 0, "1.3.6.1.2.1.1.1.0", "1.3.6.1.4.1.9.1", "1.3.6.1.2.1.1.5.0"), 0, 0,
		"1.3.6.1.2.1.1.1.0=STRING:first", "1.3.6.1.4.1.9.1=INTEGER:-3", "1.3.6.1.2.1.1.5.0=STRING:name")
	h.expect(h.do(versionV2c, "dev", pduGet, 0, 0,
		"1.3.6.1.2.1.1.1",         // object without instance
		"1.3.6.1.2.1.1.1.1",       // another instance of a scalar
		"1.3.6.1.2.1.2.2.1.2.9",   // a row that does not exist
		"1.3.6.1.2.1.1.99.0",      // an object that does not exist
		"1.3.6.1.9",               // beyond everything
		"0.0",                     // before everything
		"1.3.6.1.2.1.2.2.1.2.2.1", // below an instance
	), 0, 0,
		"1.3.6.1.2.1.1.1=noSuchInstance", "1.3.6.1.2.1.1.1.1=noSuchInstance", "1.3.6.1.2.1.2.2.1.2.9=noSuchInstance",
		"1.3.6.1.2.1.1.99.0=noSuchObject", "1.3.6.1.9=noSuchObject", "0.0=noSuchObject", "1.3.6.1.2.1.2.2.1.2.2.1=noSuchObject")
	h.expect(h.do(versionV2c, "dev", pduGet, 0, 0), 0, 0)
}

func TestGetNext(t *testing.T) {
	h := newHarness(t, Options{})
	h.expect(h.do(versionV2c, "dev", pduGetNext, 0, 0, "0.0", "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.2", "1.3.6.1.4.1.9.1", "1.3.6.1.4.1.9.1.0", "2.5"), 0, 0,
		"1.3.6.1.2.1.1.1.0=STRING:first", "1.3.6.1.2.1.1.5.0=STRING:name", "1.3.6.1.2.1.2.2.1.2.1=STRING:lo",
		"1.3.6.1.4.1.9.1=endOfMibView", "1.3.6.1.4.1.9.1.0=endOfMibView", "2.5=endOfMibView")
	// A walk with GetNext visits every record once, in order.
	oid := "0.0"
	var walked []string
	for {
		r := h.do(versionV2c, "dev", pduGetNext, 0, 0, oid)
		if r.vbs[0].tag == tagEndOfMibView {
			break
		}
		oid = formatOID(r.vbs[0].oid)
		walked = append(walked, oid)
	}
	if !slices.Equal(walked, devOIDs) {
		t.Errorf("walked %v", walked)
	}
}

func TestGetBulk(t *testing.T) {
	h := newHarness(t, Options{})
	// One non-repeater, two repeaters, three repetitions.
	h.expect(h.do(versionV2c, "dev", pduGetBulk, 1, 3, "1.3.6.1.2.1.1", "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.47"), 0, 0,
		"1.3.6.1.2.1.1.1.0=STRING:first",
		"1.3.6.1.2.1.2.2.1.2.1=STRING:lo", "1.3.6.1.2.1.47.1.1.1.1.11.1=STRING:ENT",
		"1.3.6.1.2.1.2.2.1.2.2=STRING:eth0", "1.3.6.1.4.1.9.1=INTEGER:-3",
		"1.3.6.1.2.1.2.2.1.6.1=STRING:", "1.3.6.1.4.1.9.1=endOfMibView")
	// Rows stop after the first in which every repeater is at the end;
	// an endOfMibView repeats the last name of its column.
	h.expect(h.do(versionV2c, "dev", pduGetBulk, 0, 50, "1.3.6.1.2.1.47", "1.3.6.1.4.1.9.1"), 0, 0,
		"1.3.6.1.2.1.47.1.1.1.1.11.1=STRING:ENT", "1.3.6.1.4.1.9.1=endOfMibView",
		"1.3.6.1.4.1.9.1=INTEGER:-3", "1.3.6.1.4.1.9.1=endOfMibView",
		"1.3.6.1.4.1.9.1=endOfMibView", "1.3.6.1.4.1.9.1=endOfMibView")
	// Negative non-repeaters and max-repetitions count as 0; more
	// non-repeaters than varbinds make all of them non-repeaters.
	h.expect(h.do(versionV2c, "dev", pduGetBulk, -4, 5, "1.3.6.1.4.1.9"), 0, 0,
		"1.3.6.1.4.1.9.1=INTEGER:-3", "1.3.6.1.4.1.9.1=endOfMibView")
	h.expect(h.do(versionV2c, "dev", pduGetBulk, 0, -1, "1.3.6.1.4.1.9"), 0, 0)
	h.expect(h.do(versionV2c, "dev", pduGetBulk, 9, 5, "0.0", "1.3.6.1.4.1.9.1"), 0, 0,
		"1.3.6.1.2.1.1.1.0=STRING:first", "1.3.6.1.4.1.9.1=endOfMibView")
	h.expect(h.do(versionV2c, "dev", pduGetBulk, 0, 5), 0, 0)
	// A bulk walk sees every record once.
	var walked []string
	for oid := "0.0"; ; {
		r := h.do(versionV2c, "dev", pduGetBulk, 0, 3, oid)
		for _, vb := range r.vbs {
			if vb.tag != tagEndOfMibView {
				walked = append(walked, formatOID(vb.oid))
			}
		}
		last := r.vbs[len(r.vbs)-1]
		if last.tag == tagEndOfMibView {
			break
		}
		oid = formatOID(last.oid)
	}
	if !slices.Equal(walked, devOIDs) {
		t.Errorf("walked %v", walked)
	}
}

// A file big enough that responses hit the message size.
func bigData(rows int) string {
	var b strings.Builder
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&b, "1.3.6.1.2.1.2.2.1.2.%d|4|interface number %d with a longish description\n", i, i)
	}
	return b.String()
}

func TestGetBulkTruncates(t *testing.T) {
	const rows = 500
	dir := writeData(t, map[string]string{"big.snmprec": bigData(rows)})
	for _, size := range []int{484, 1472, DefaultMaxMessageSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			h := newHarness(t, Options{DataDir: dir, MaxMessageSize: size})
			seen, requests := 0, 0
			for oid := "1.3.6.1.2.1.2"; ; requests++ {
				r := h.do(versionV2c, "big", pduGetBulk, 0, 1000, oid)
				if r.status != 0 || len(r.vbs) == 0 {
					t.Fatalf("status %d with %d varbinds", r.status, len(r.vbs))
				}
				last := r.vbs[len(r.vbs)-1]
				for _, vb := range r.vbs {
					if vb.tag == tagEndOfMibView {
						continue
					}
					seen++
					if want := fmt.Sprintf("1.3.6.1.2.1.2.2.1.2.%d", seen); formatOID(vb.oid) != want {
						t.Fatalf("got %s, want %s", formatOID(vb.oid), want)
					}
				}
				if last.tag == tagEndOfMibView {
					break
				}
				oid = formatOID(last.oid)
			}
			if seen != rows {
				t.Errorf("walked %d rows, want %d", seen, rows)
			}
			t.Logf("max message size %d: %d GetBulk requests for %d rows", size, requests+1, rows)
			if size == 484 && requests < 10 {
				t.Errorf("only %d requests: responses were not truncated", requests)
			}
		})
	}
}

func TestTooBig(t *testing.T) {
	dir := writeData(t, map[string]string{"big.snmprec": bigData(40) + "1.3.6.1.9.1|4|" + strings.Repeat("x", 600) + "\n"})
	h := newHarness(t, Options{DataDir: dir, MaxMessageSize: 484})
	var oids []string
	for i := 1; i <= 40; i++ {
		oids = append(oids, fmt.Sprintf("1.3.6.1.2.1.2.2.1.2.%d", i))
	}
	h.expect(h.do(versionV2c, "big", pduGet, 0, 0, oids...), errTooBig, 0)
	h.expect(h.do(versionV1, "big", pduGetNext, 0, 0, oids...), errTooBig, 0)
	// A GetBulk truncates, unless not even one varbind fits.
	r := h.do(versionV2c, "big", pduGetBulk, 40, 0, oids...)
	if r.status != 0 || len(r.vbs) == 0 || len(r.vbs) == len(oids) {
		t.Errorf("GetBulk of 40 non-repeaters: status %d, %d varbinds", r.status, len(r.vbs))
	}
	h.expect(h.do(versionV2c, "big", pduGetBulk, 0, 10, "1.3.6.1.9"), errTooBig, 0)
	h.expect(h.do(versionV2c, "big", pduGet, 0, 0, "1.3.6.1.9.1"), errTooBig, 0)
}

func TestV1(t *testing.T) {
	h := newHarness(t, Options{})
	h.expect(h.do(versionV1, "dev", pduGet, 0, 0, "1.3.6.1.2.1.1.1.0", "1.3.6.1.4.1.9.1"), 0, 0,
		"1.3.6.1.2.1.1.1.0=STRING:first", "1.3.6.1.4.1.9.1=INTEGER:-3")
	// A miss is a noSuchName error carrying the request's varbinds.
	r := h.do(versionV1, "dev", pduGet, 0, 0, "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0")
	if r.status != errNoSuchName || r.index != 2 || len(r.vbs) != 2 || r.vbs[1].tag != tagNull {
		t.Errorf("v1 miss: %+v", r)
	}
	// Counter64 is invisible to v1.
	h.expect(h.do(versionV1, "dev", pduGet, 0, 0, "1.3.6.1.2.1.31.1.1.1.6.2"), errNoSuchName, 1, "1.3.6.1.2.1.31.1.1.1.6.2=tag5:0")
	h.expect(h.do(versionV1, "dev", pduGetNext, 0, 0, "1.3.6.1.2.1.2.2.1.6.2"), 0, 0, "1.3.6.1.2.1.43.5.1.1.17.1=STRING:SER")
	h.expect(h.do(versionV1, "dev", pduGetNext, 0, 0, "1.3.6.1.2.1.1.5.0", "1.3.6.1.4.1.9.1"), errNoSuchName, 2,
		"1.3.6.1.2.1.1.5.0=tag5:0", "1.3.6.1.4.1.9.1=tag5:0")
	// v1 has no GetBulk.
	if r := h.do(versionV1, "dev", pduGetBulk, 0, 10, "0.0"); r != nil {
		t.Errorf("v1 GetBulk answered: %+v", r)
	}
	// v2c sees the Counter64.
	h.expect(h.do(versionV2c, "dev", pduGetNext, 0, 0, "1.3.6.1.2.1.2.2.1.6.2"), 0, 0, "1.3.6.1.2.1.31.1.1.1.6.2=tag70:5")
}

func TestSet(t *testing.T) {
	h := newHarness(t, Options{})
	h.expect(h.do(versionV2c, "dev", pduSet, 0, 0, "1.3.6.1.2.1.1.5.0"), errNoAccess, 1, "1.3.6.1.2.1.1.5.0=tag5:0")
	h.expect(h.do(versionV1, "dev", pduSet, 0, 0, "1.3.6.1.2.1.1.5.0"), errNoSuchName, 1, "1.3.6.1.2.1.1.5.0=tag5:0")
}

func TestNoAnswer(t *testing.T) {
	h := newHarness(t, Options{})
	for _, c := range []string{"", "public", "dev@0", "dev@017", "dev@16777216", "dev@", "dev@1x", "dev@-1", "de@1", "DEV"} {
		if r := h.do(versionV2c, c, pduGet, 0, 0, "1.3.6.1.2.1.1.1.0"); r != nil {
			t.Errorf("community %q answered", c)
		}
	}
	good := buildRequest(versionV2c, "dev", pduGet, 1, 0, 0, mustOID(t, "1.3.6.1.2.1.1.1.0"))
	if h.s.handle(h.w, good) == nil {
		t.Fatal("good request not answered")
	}
	bad := map[string][]byte{
		"empty":     nil,
		"v3":        buildRequest(3, "dev", pduGet, 1, 0, 0, mustOID(t, "1.3.6.1.2.1.1.1.0")),
		"response":  buildRequest(versionV2c, "dev", pduResponse, 1, 0, 0, mustOID(t, "1.3.6.1.2.1.1.1.0")),
		"trap":      buildRequest(versionV2c, "dev", 0xa7, 1, 0, 0, mustOID(t, "1.3.6.1.2.1.1.1.0")),
		"truncated": good[:len(good)-1],
		"garbage":   []byte("hello, world"),
	}
	for name, pkt := range bad {
		if h.s.handle(h.w, pkt) != nil {
			t.Errorf("%s answered", name)
		}
	}
	// Trailing bytes after the message are ignored.
	if h.s.handle(h.w, append(slices.Clone(good), 0, 0)) == nil {
		t.Error("request with trailing bytes not answered")
	}
	var st Stats
	h.w.addStats(&st)
	if st.UnknownCommunity != 10 || st.Malformed != 6 {
		t.Errorf("stats %+v", st)
	}
}

func TestRequestIDEcho(t *testing.T) {
	h := newHarness(t, Options{})
	for _, id := range []int64{0, 1, 127, 128, -1, -129, 1<<31 - 1, -1 << 31} {
		pkt := h.s.handle(h.w, buildRequest(versionV2c, "dev", pduGet, id, 0, 0, mustOID(t, "1.3.6.1.2.1.1.1.0")))
		if r := decodeResponse(t, pkt); r.reqID != id {
			t.Errorf("request-id %d came back as %d", id, r.reqID)
		}
	}
}

func TestDeviceSuffix(t *testing.T) {
	h := newHarness(t, Options{})
	oids := []string{"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.2.2.1.6.1", "1.3.6.1.2.1.2.2.1.6.2",
		"1.3.6.1.2.1.43.5.1.1.17.1", "1.3.6.1.2.1.47.1.1.1.1.11.1"}
	get := func(community string) []varbind {
		r := h.do(versionV2c, community, pduGet, 0, 0, oids...)
		if r == nil || r.status != 0 {
			t.Fatalf("%s: %+v", community, r)
		}
		return r.vbs
	}
	base, d1, d17 := get("dev"), get("dev@1"), get("dev@17")
	want := map[string][3]string{ // base, @1, @17
		"1.3.6.1.2.1.1.1.0":           {"first", "first", "first"},
		"1.3.6.1.2.1.1.5.0":           {"name", "name-1", "name-17"},
		"1.3.6.1.2.1.2.2.1.6.1":       {"", "", ""},
		"1.3.6.1.2.1.2.2.1.6.2":       {"001122fffffe", "001122ffffff", "00112200000f"}, // wraps within the OUI
		"1.3.6.1.2.1.43.5.1.1.17.1":   {"SER", "SER-1", "SER-17"},
		"1.3.6.1.2.1.47.1.1.1.1.11.1": {"ENT", "ENT-1", "ENT-17"},
	}
	for i, o := range oids {
		for j, vbs := range [][]varbind{base, d1, d17} {
			got := string(vbs[i].value)
			if o == "1.3.6.1.2.1.2.2.1.6.2" {
				got = fmt.Sprintf("%x", vbs[i].value)
			}
			if got != want[o][j] || formatOID(vbs[i].oid) != o {
				t.Errorf("device %d %s = %q, want %q", j, o, got, want[o][j])
			}
		}
	}
	// GetNext and GetBulk vary the same way.
	h.expect(h.do(versionV2c, "dev@300", pduGetBulk, 1, 2, "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.2.2.1.2.2", "1.3.6.1.2.1.43"), 0, 0,
		"1.3.6.1.2.1.1.5.0=STRING:name-300",
		"1.3.6.1.2.1.2.2.1.6.1=STRING:", "1.3.6.1.2.1.43.5.1.1.17.1=STRING:SER-300",
		"1.3.6.1.2.1.2.2.1.6.2=STRING:\x00\x11\x22\x00\x01\x2a", "1.3.6.1.2.1.47.1.1.1.1.11.1=STRING:ENT-300")
	// Device numbers give distinct MACs and serials, none the file's own.
	macs, serials := map[string]bool{}, map[string]bool{}
	for _, c := range []string{"dev", "dev@1", "dev@2", "dev@255", "dev@256", "dev@65536", "dev@16777215"} {
		r := h.do(versionV2c, c, pduGet, 0, 0, "1.3.6.1.2.1.2.2.1.6.2", "1.3.6.1.2.1.43.5.1.1.17.1")
		mac, serial := string(r.vbs[0].value), string(r.vbs[1].value)
		if macs[mac] || serials[serial] || !bytes.HasPrefix(r.vbs[0].value, []byte{0x00, 0x11, 0x22}) {
			t.Errorf("%s: MAC %x serial %q repeats or lost its OUI", c, mac, serial)
		}
		macs[mac], serials[serial] = true, true
	}
}

func TestCommunityWithAt(t *testing.T) {
	dir := writeData(t, map[string]string{
		"a@1.snmprec": "1.3.6.1.2.1.1.5.0|4|exact\n",
		"a.snmprec":   "1.3.6.1.2.1.1.5.0|4|base\n",
	})
	h := newHarness(t, Options{DataDir: dir})
	h.expect(h.do(versionV2c, "a@1", pduGet, 0, 0, "1.3.6.1.2.1.1.5.0"), 0, 0, "1.3.6.1.2.1.1.5.0=STRING:exact")
	h.expect(h.do(versionV2c, "a@2", pduGet, 0, 0, "1.3.6.1.2.1.1.5.0"), 0, 0, "1.3.6.1.2.1.1.5.0=STRING:base-2")
	h.expect(h.do(versionV2c, "a@1@3", pduGet, 0, 0, "1.3.6.1.2.1.1.5.0"), 0, 0, "1.3.6.1.2.1.1.5.0=STRING:exact-3")
}

func TestHandleDoesNotAllocate(t *testing.T) {
	h := newHarness(t, Options{DataDir: sharedData(t)})
	reqs := map[string][]byte{
		"get":     buildRequest(versionV2c, "canon-c5535@17", pduGet, 7, 0, 0, mustOID(t, "1.3.6.1.2.1.43.5.1.1.17.1"), mustOID(t, "1.3.6.1.2.1.2.2.1.6.2"), mustOID(t, "1.3.6.1.2.1.1.99.0")),
		"getnext": buildRequest(versionV1, "canon-c5535", pduGetNext, 7, 0, 0, mustOID(t, "1.3.6.1.2.1.1"), mustOID(t, "1.3.6.1.2.1.43.11")),
		"getbulk": buildRequest(versionV2c, "lexmark-ms521@4000", pduGetBulk, 7, 1, 25, mustOID(t, "1.3.6.1.2.1.1"), mustOID(t, "1.3.6.1.2.1.2.2.1"), mustOID(t, "1.3.6.1.2.1.43.11")),
		"unknown": buildRequest(versionV2c, "nobody", pduGet, 7, 0, 0, mustOID(t, "1.3.6.1.2.1.1.1.0")),
	}
	for name, req := range reqs {
		h.s.handle(h.w, req) // grow the buffers once
		if n := testing.AllocsPerRun(200, func() { h.s.handle(h.w, req) }); n != 0 {
			t.Errorf("%s: %.1f allocations per request", name, n)
		}
	}
}
