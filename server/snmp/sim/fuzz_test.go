package sim

import (
	"bytes"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// FuzzHandle feeds arbitrary UDP payloads to the request handler: it must
// never panic, and whatever it answers must be a well-formed response to
// the request, within the message size. Run it with
//
//	go test -run='^$' -fuzz=FuzzHandle -fuzztime=20s ./server/snmp/sim/
func FuzzHandle(f *testing.F) {
	dir := writeData(f, map[string]string{
		"dev.snmprec": devData,
		"big.snmprec": bigData(60) + "1.3.6.1.9.1|4|" + string(bytes.Repeat([]byte("x"), 600)) + "\n",
	})
	small := start(f, Options{DataDir: dir, MaxMessageSize: 484})
	large := start(f, Options{DataDir: dir})
	ws, wl := newWorker(small.maxMsg), newWorker(large.maxMsg)

	oids := [][]uint32{
		{1, 3, 6, 1, 2, 1, 1, 1, 0}, {1, 3, 6, 1, 2, 1, 2, 2, 1, 6, 2}, {1, 3, 6, 1, 2, 1}, {0, 0},
		{1, 3, 6, 1, 4, 1, 9, 1}, {2, 4294967295, 7}, {1, 3, 6, 1, 2, 1, 2, 2, 1, 2}, {1, 3, 6, 1, 9},
	}
	for _, community := range []string{"dev", "big", "dev@17", "big@16777215", "nobody"} {
		for _, version := range []int64{versionV1, versionV2c} {
			for _, pdu := range []byte{pduGet, pduGetNext, pduGetBulk, pduSet} {
				f.Add(buildRequest(version, community, pdu, 42, 1, 10, oids...))
				f.Add(buildRequest(version, community, pdu, -1, 0, 1000, oids[6]))
				f.Add(buildRequest(version, community, pdu, 1<<31-1, -1, -1))
			}
		}
	}
	// A request as net-snmp's snmpbulkwalk sends it.
	f.Add([]byte("\x30\x26\x02\x01\x01\x04\x03dev\xa5\x1c\x02\x04\x1b\x9e\x5c\x43\x02\x01\x00\x02\x01\x0a\x30\x0e\x30\x0c\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x05\x00"))
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, pkt []byte) {
		s, w := large, wl
		if len(pkt)%2 == 1 {
			s, w = small, ws
		}
		resp := s.handle(w, pkt)
		if resp == nil {
			return
		}
		if len(resp) > s.maxMsg {
			t.Fatalf("response of %d bytes exceeds %d", len(resp), s.maxMsg)
		}
		var req request
		if !parseRequest(pkt, &req) {
			t.Fatal("answered a request that does not parse")
		}
		r := decodeResponse(t, resp)
		_, idContent, _, _ := readTLV(req.reqID)
		id, _ := parseInt(idContent)
		if r.pdu != pduResponse || r.version != req.version || r.community != string(req.community) || r.reqID != id {
			t.Fatalf("response %+v does not answer the request", r)
		}
		if r.status == errNoError && req.pdu != pduGetBulk && len(r.vbs) != len(req.vbs) {
			t.Fatalf("%d varbinds answer %d", len(r.vbs), len(req.vbs))
		}
		// gosnmp, the poller's client library, must read it the same, if
		// it can read the request (it cannot decode every legal OID,
		// such as 2.4294967295, which the answer may echo).
		if _, err := (&gosnmp.GoSNMP{Version: gosnmp.SnmpVersion(r.version)}).SnmpDecodePacket(pkt); err != nil {
			return
		}
		g, err := (&gosnmp.GoSNMP{Version: gosnmp.SnmpVersion(r.version)}).SnmpDecodePacket(resp)
		if err != nil {
			t.Fatalf("gosnmp cannot decode %x: %v", resp, err)
		}
		if g.PDUType != gosnmp.GetResponse || g.Community != r.community || int64(int32(g.RequestID)) != r.reqID ||
			int64(g.Error) != r.status || len(g.Variables) != len(r.vbs) {
			t.Fatalf("gosnmp reads %x as %s", resp, g.SafeString())
		}
	})
}

// FuzzParseLine: a data line either fails to parse or gives a record
// whose pre-encoded varbind decodes back to it.
func FuzzParseLine(f *testing.F) {
	for _, l := range []string{"1.3.6.1.2.1.1.1.0|4|text", "1.3.6|4x|00ff", "1.3.6|4e|a\\x41\\n", "1.3.6|2|-3",
		"1.3.6|6|1.3.6.1.4.1.9", "1.3.6|64|10.0.0.1", "1.3.6|70|18446744073709551615", "1.3.6|5|", "2.999|130|"} {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		rec, err := parseLine(line)
		if err != nil {
			return
		}
		tag, vb, rest, ok := readTLV(rec.vb)
		if !ok || tag != tagSequence || len(rest) != 0 {
			t.Fatalf("varbind %x", rec.vb)
		}
		tag, name, val, ok := readTLV(vb)
		if !ok || tag != tagOID {
			t.Fatalf("name of %x", rec.vb)
		}
		if oid, ok := decodeOID(nil, name); !ok || compareOID(oid, rec.oid) != 0 {
			t.Fatalf("OID %v decodes as %v", rec.oid, oid)
		}
		tag, content, rest, ok := readTLV(val)
		if !ok || tag != rec.tag || !bytes.Equal(content, rec.value) || len(rest) != 0 {
			t.Fatalf("value of %x", rec.vb)
		}
	})
}
