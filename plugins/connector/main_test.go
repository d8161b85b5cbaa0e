package connector

import (
	"context"
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
		if mode == "host" {
			// The connector it starts writes its pid to the host's pid file.
			os.Setenv("CMDB_CONNECTOR_TEST_MODE", "hang")
		} else if f := os.Getenv("CMDB_CONNECTOR_TEST_PIDFILE"); f != "" {
			_ = os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0o600)
		}
		switch mode {
		case "host":
			// A host that starts a connector and then waits to be killed.
			exe, _ := os.Executable()
			c, _, err := Launch(context.Background(), exe, nil)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			_, _ = c.Check(context.Background(), Config{}) // hangs
			time.Sleep(time.Hour)
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
