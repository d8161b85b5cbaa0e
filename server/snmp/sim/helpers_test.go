package sim

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// sharedData returns the directory of the project's sample recordings,
// testdata/snmp at the top of the repository (a copy of shared/testdata/snmp).
func sharedData(t testing.TB) string {
	t.Helper()
	// The repository's copy of the sample recordings (testdata/snmp).
	dir := filepath.Join("..", "..", "..", "testdata", "snmp")
	if _, err := os.Stat(filepath.Join(dir, "canon-c5535.snmprec")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared SNMP test data missing: %v", err)
		}
		t.Skipf("shared SNMP test data not found beside the repository (%v)", err)
	}
	return dir
}

// startShared starts a simulator on the shared recordings.
func startShared(t testing.TB, opts Options) *Server {
	t.Helper()
	opts.DataDir = sharedData(t)
	return start(t, opts)
}

func start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	s, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writeData writes data files into a new directory and returns it.
func writeData(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustOID parses a dotted OID or fails the test.
func mustOID(t testing.TB, s string) []uint32 {
	t.Helper()
	oid, err := parseOID(s)
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

// buildRequest encodes an SNMP v1/v2c request with NULL values.
func buildRequest(version int64, community string, pdu byte, reqID, a, b int64, oids ...[]uint32) []byte {
	var vbl []byte
	for _, oid := range oids {
		name := appendOIDContent(nil, oid)
		var vb []byte
		vb = appendHeader(vb, tagOID, len(name))
		vb = append(vb, name...)
		vb = append(vb, tagNull, 0)
		vbl = appendHeader(vbl, tagSequence, len(vb))
		vbl = append(vbl, vb...)
	}
	var p []byte
	p = appendTLVInt(p, reqID)
	p = appendTLVInt(p, a)
	p = appendTLVInt(p, b)
	p = appendHeader(p, tagSequence, len(vbl))
	p = append(p, vbl...)
	var m []byte
	m = appendTLVInt(m, version)
	m = appendHeader(m, tagOctetString, len(community))
	m = append(m, community...)
	m = appendHeader(m, pdu, len(p))
	m = append(m, p...)
	return append(appendHeader(nil, tagSequence, len(m)), m...)
}

func appendTLVInt(b []byte, v int64) []byte {
	c := appendIntContent(nil, v)
	return append(appendHeader(b, tagInteger, len(c)), c...)
}

// response is a decoded response message.
type response struct {
	version   int64
	community string
	pdu       byte
	reqID     int64
	status    int64
	index     int64
	vbs       []varbind
}

type varbind struct {
	oid   []uint32
	tag   byte
	value []byte
}

func (v varbind) String() string { return formatOID(v.oid) + "=" + formatValue(v.tag, v.value) }

// decodeResponse decodes a response message strictly: every length must
// match exactly, with nothing left over.
func decodeResponse(t testing.TB, pkt []byte) response {
	t.Helper()
	var r response
	fail := func(what string) {
		t.Helper()
		t.Fatalf("bad response (%s): %x", what, pkt)
	}
	tag, msg, rest, ok := readTLV(pkt)
	if !ok || tag != tagSequence || len(rest) != 0 {
		fail("message")
	}
	tag, c, msg, ok := readTLV(msg)
	if !ok || tag != tagInteger {
		fail("version")
	}
	r.version, _ = parseInt(c)
	tag, c, msg, ok = readTLV(msg)
	if !ok || tag != tagOctetString {
		fail("community")
	}
	r.community = string(c)
	tag, pdu, rest, ok := readTLV(msg)
	if !ok || len(rest) != 0 {
		fail("pdu")
	}
	r.pdu = tag
	for _, dst := range []*int64{&r.reqID, &r.status, &r.index} {
		if tag, c, pdu, ok = readTLV(pdu); !ok || tag != tagInteger {
			fail("pdu integer")
		}
		*dst, _ = parseInt(c)
	}
	tag, vbl, rest, ok := readTLV(pdu)
	if !ok || tag != tagSequence || len(rest) != 0 {
		fail("varbind list")
	}
	for len(vbl) > 0 {
		var vb []byte
		if tag, vb, vbl, ok = readTLV(vbl); !ok || tag != tagSequence {
			fail("varbind")
		}
		tag, name, val, ok := readTLV(vb)
		if !ok || tag != tagOID {
			fail("name")
		}
		oid, ok := decodeOID(nil, name)
		if !ok {
			fail("oid")
		}
		tag, content, rest, ok := readTLV(val)
		if !ok || len(rest) != 0 {
			fail("value")
		}
		r.vbs = append(r.vbs, varbind{oid: oid, tag: tag, value: content})
	}
	return r
}

// formatValue renders a value for test messages.
func formatValue(tag byte, v []byte) string {
	switch tag {
	case tagInteger:
		n, _ := parseInt(v)
		return "INTEGER:" + itoa(n)
	case tagOctetString:
		return "STRING:" + string(v)
	case tagOID:
		oid, _ := decodeOID(nil, v)
		return "OID:" + formatOID(oid)
	case tagNoSuchObject:
		return "noSuchObject"
	case tagNoSuchInstance:
		return "noSuchInstance"
	case tagEndOfMibView:
		return "endOfMibView"
	}
	var n uint64
	for _, b := range v {
		n = n<<8 | uint64(b)
	}
	return "tag" + itoa(int64(tag)) + ":" + itoa(int64(n))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
