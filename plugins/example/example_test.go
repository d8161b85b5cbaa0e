package example

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/schulit/cmdb/plugins/connector"
)

func TestExample(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geraete.json")
	if err := os.WriteFile(path, []byte(`[{"id":"4711","serial":"5CG1234XYZ","type":"Laptop","school":"GYN","room":"1.16"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := connector.Config{Settings: json.RawMessage(`{"path":"` + path + `"}`)}

	// InProcess runs the connector behind the same gRPC adapters the
	// server uses.
	c := connector.InProcess(t, Connector{})
	res, err := c.Check(context.Background(), cfg)
	if err != nil || !res.OK {
		t.Fatalf("Check = %+v, %v", res, err)
	}
	var got []connector.Record
	err = c.Pull(context.Background(), cfg, func(b []connector.Record) error {
		got = append(got, b...)
		return nil
	})
	if err != nil || len(got) != 1 || got[0].Identifiers.Serial != "5CG1234XYZ" || got[0].Location.Room != "1.16" {
		t.Fatalf("Pull = %+v, %v", got, err)
	}
	res, _ = c.Check(context.Background(), connector.Config{Settings: json.RawMessage(`{}`)})
	if res.OK {
		t.Fatal("Check without a path succeeded")
	}
}
