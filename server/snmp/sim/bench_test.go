package sim

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// benchDevices is how many NAME@N devices the benchmarks cycle through.
const benchDevices = 1000

// BenchmarkGetBulk measures GetBulk requests per second through a real
// UDP socket on loopback: closed-loop clients, each with its own socket,
// each request to another of benchDevices simulated printers, walking
// prtMarkerSuppliesTable with max-repetitions 10 (what snmpbulkwalk
// asks for), so 10 varbinds and ~230 bytes per response. The clients
// share the machine with the server.
func BenchmarkGetBulk(b *testing.B) {
	s := startShared(b, Options{})
	reqs := make([][]byte, benchDevices)
	for i := range reqs {
		reqs[i] = buildRequest(versionV2c, fmt.Sprintf("canon-c5535@%d", i+1), pduGetBulk, int64(i), 0, 10,
			[]uint32{1, 3, 6, 1, 2, 1, 43, 11, 1, 1})
	}
	var lost, bytesIn atomic.Int64
	var next atomic.Uint64
	b.SetParallelism(8) // 8 clients per CPU: enough in flight to keep the workers busy
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("udp", s.Addr())
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		buf := make([]byte, 65536)
		for pb.Next() {
			i := next.Add(1) % benchDevices
			req := reqs[i]
			for {
				if _, err := conn.Write(req); err != nil {
					b.Error(err)
					return
				}
				conn.SetReadDeadline(time.Now().Add(time.Second))
				n, err := conn.Read(buf)
				if errors.Is(err, os.ErrDeadlineExceeded) {
					lost.Add(1) // resend, as a poller would
					continue
				}
				if err != nil {
					b.Error(err)
					return
				}
				if responseID(buf[:n]) != int64(i) {
					continue // a late answer to an earlier try
				}
				bytesIn.Add(int64(n))
				break
			}
		}
	})
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "req/s")
	b.ReportMetric(float64(b.N)*10/secs, "varbinds/s")
	b.ReportMetric(float64(bytesIn.Load())/float64(b.N), "B/resp")
	b.ReportMetric(float64(lost.Load()), "lost")
}

// responseID returns the request-id of a response, or -1.
func responseID(pkt []byte) int64 {
	_, msg, _, ok := readTLV(pkt)
	if !ok {
		return -1
	}
	for range 2 { // version, community
		if _, _, msg, ok = readTLV(msg); !ok {
			return -1
		}
	}
	_, pdu, _, ok := readTLV(msg)
	if !ok {
		return -1
	}
	_, c, _, ok := readTLV(pdu)
	if !ok {
		return -1
	}
	id, ok := parseInt(c)
	if !ok {
		return -1
	}
	return id
}

// BenchmarkHandle measures the handler alone, without sockets.
func BenchmarkHandle(b *testing.B) {
	s := startShared(b, Options{})
	oid := func(s string) []uint32 { return mustOID(b, s) }
	cases := []struct {
		name string
		req  []byte
	}{
		{"Get", buildRequest(versionV2c, "canon-c5535@17", pduGet, 1, 0, 0,
			oid("1.3.6.1.2.1.1.2.0"), oid("1.3.6.1.2.1.43.5.1.1.17.1"), oid("1.3.6.1.2.1.2.2.1.6.2"), oid("1.3.6.1.2.1.43.10.2.1.4.1.1"))},
		{"GetNext", buildRequest(versionV2c, "canon-c5535", pduGetNext, 1, 0, 0, oid("1.3.6.1.2.1.43.11.1.1.9"))},
		{"GetBulk10", buildRequest(versionV2c, "canon-c5535@17", pduGetBulk, 1, 0, 10, oid("1.3.6.1.2.1.43.11.1.1"))},
		{"GetBulk50x3", buildRequest(versionV2c, "canon-c5535@17", pduGetBulk, 1, 1, 50,
			oid("1.3.6.1.2.1.1"), oid("1.3.6.1.2.1.2.2.1"), oid("1.3.6.1.2.1.25"), oid("1.3.6.1.2.1.43"))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := newWorker(s.maxMsg)
			b.ReportAllocs()
			b.SetBytes(int64(len(s.handle(w, c.req))))
			for b.Loop() {
				if s.handle(w, c.req) == nil {
					b.Fatal("no answer")
				}
			}
		})
	}
}
