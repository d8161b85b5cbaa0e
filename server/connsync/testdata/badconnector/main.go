// Command badconnector is a connector that misbehaves on purpose, for the
// host's tests: BAD_MODE=crash ends the process after the first batch,
// hang stops answering after it, garbage writes junk where the handshake
// belongs, ok delivers all its records. BAD_RECORDS says how many.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/schulit/cmdb/plugins/connector"
)

type bad struct{ connector.NoPush }

func (bad) Describe(context.Context) (connector.Description, error) {
	return connector.Description{Name: "bad", Version: "1", Capabilities: []connector.Capability{connector.CapPull},
		ConfigSchema: []byte(`{"type":"object"}`)}, nil
}

func (bad) Check(context.Context, connector.Config) (connector.CheckResult, error) {
	return connector.CheckResult{OK: true, Message: "ok"}, nil
}

func (bad) Pull(ctx context.Context, _ connector.Config, emit func([]connector.Record) error) error {
	n, _ := strconv.Atoi(os.Getenv("BAD_RECORDS"))
	var batch []connector.Record
	for i := 0; i < n; i++ {
		batch = append(batch, connector.Record{SourceKey: fmt.Sprintf("bad-%d", i), ClassHint: "Laptop",
			Identifiers: connector.Identifiers{Serial: fmt.Sprintf("BAD%05d", i)}, Attributes: map[string]string{"vendor": "Dell"}})
	}
	first, rest := batch[:min(2, len(batch))], batch[min(2, len(batch)):]
	if err := emit(first); err != nil {
		return err
	}
	switch os.Getenv("BAD_MODE") {
	case "crash":
		time.Sleep(100 * time.Millisecond) // the first batch is on its way
		os.Exit(3)
	case "hang":
		<-make(chan struct{})
	}
	return emit(rest)
}

func main() {
	if os.Getenv("BAD_MODE") == "garbage" {
		fmt.Println("Hallo! Das ist kein Handshake.")
		os.Exit(0)
	}
	connector.Serve(bad{})
}
