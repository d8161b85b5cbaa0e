package connector

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestMain doubles as a connector executable: the subprocess tests start
// this test binary again with CMDB_CONNECTOR_TEST_MODE set, so that a
// crashing, hanging or garbage-talking connector needs no build step.
func TestMain(m *testing.M) {
	if mode := os.Getenv("CMDB_CONNECTOR_TEST_MODE"); mode != "" {
		if f := os.Getenv("CMDB_CONNECTOR_TEST_PIDFILE"); f != "" {
			_ = os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0o600)
		}
		switch mode {
		case "garbage":
			// Junk on stdout before the handshake line.
			fmt.Println("Hallo! Ich bin kein Connector.")
		case "slow-start":
			time.Sleep(time.Hour)
		}
		Serve(&faulty{mode: mode})
		os.Exit(0)
	}
	os.Exit(m.Run())
}
