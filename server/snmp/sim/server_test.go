package sim

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// TestConcurrentDevices has many clients ask many devices at once over
// UDP: every answer must be the asking device's own.
func TestConcurrentDevices(t *testing.T) {
	s := startShared(t, Options{Workers: 4})
	serial := []uint32{1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17, 1}
	var wg sync.WaitGroup
	for c := range 16 {
		wg.Go(func() {
			conn, err := net.Dial("udp", s.Addr())
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			buf := make([]byte, 65536)
			for i := range 50 {
				dev := c*50 + i + 1
				req := buildRequest(versionV2c, fmt.Sprintf("canon-c5535@%d", dev), pduGet, int64(dev), 0, 0, serial)
				var n int
				for try := 0; ; try++ {
					conn.Write(req)
					conn.SetReadDeadline(time.Now().Add(2 * time.Second))
					if n, err = conn.Read(buf); err == nil || try == 3 {
						break
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
				r := decodeResponse(t, buf[:n])
				if want := fmt.Sprintf("XLF01234-%d", dev); r.reqID != int64(dev) || len(r.vbs) != 1 || string(r.vbs[0].value) != want {
					t.Errorf("device %d got %+v, want serial %s", dev, r, want)
				}
			}
		})
	}
	wg.Wait()
	// (Responses is counted after the send: it may lag the last answer.)
	if st := s.Stats(); st.Requests < 800 {
		t.Errorf("stats %+v", st)
	}
}

// TestContextStops checks that cancelling Start's context stops the
// server and frees its port.
func TestContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s, err := Start(ctx, Options{DataDir: sharedData(t), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pc, err := net.ListenPacket("udp", addr)
		if err == nil {
			pc.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("port still taken after cancel: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
}
