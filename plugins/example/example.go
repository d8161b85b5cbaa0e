// Package example is the smallest complete connector, the one the guide
// "Writing a connector" walks through: it reads devices from a JSON file
// such as
//
//	[{"id": "4711", "serial": "5CG1234XYZ", "type": "Laptop", "school": "GYN", "room": "1.16"}]
package example

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/schulit/cmdb/plugins/connector"
)

// Connector implements connector.Connector. It only pulls, so it embeds
// connector.NoPush.
type Connector struct {
	connector.NoPush
}

type settings struct {
	Path string `json:"path"`
}

type device struct {
	ID     string `json:"id"`
	Serial string `json:"serial"`
	Type   string `json:"type"`
	School string `json:"school"`
	Room   string `json:"room"`
}

// Describe says who the connector is and how it is configured.
func (Connector) Describe(context.Context) (connector.Description, error) {
	return connector.Description{
		Name:         "example",
		Version:      "1.0.0",
		Capabilities: []connector.Capability{connector.CapPull},
		ConfigSchema: json.RawMessage(`{"type":"object","required":["path"],
			"properties":{"path":{"type":"string","title":"JSON-Datei"}}}`),
	}, nil
}

// Check says in words whether the configuration works.
func (c Connector) Check(ctx context.Context, cfg connector.Config) (connector.CheckResult, error) {
	devices, err := load(cfg)
	if err != nil {
		return connector.CheckResult{OK: false, Message: err.Error(),
			Problems: []connector.Problem{{Field: "path", Rule: "readable", Message: err.Error()}}}, nil
	}
	return connector.CheckResult{OK: true, Message: fmt.Sprintf("%d Geräte gefunden.", len(devices))}, nil
}

// Pull hands the devices to emit in batches.
func (c Connector) Pull(ctx context.Context, cfg connector.Config, emit func([]connector.Record) error) error {
	devices, err := load(cfg)
	if err != nil {
		return err
	}
	batch := make([]connector.Record, 0, connector.MaxBatch)
	for _, d := range devices {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch = append(batch, connector.Record{
			SourceKey:   d.ID,
			ClassHint:   d.Type,
			Identifiers: connector.Identifiers{Serial: d.Serial, SourceDeviceID: d.ID},
			Location:    connector.Location{SchoolCode: d.School, Room: d.Room},
		})
		if len(batch) == connector.MaxBatch {
			if err := emit(batch); err != nil {
				return err
			}
			batch = batch[:0:0]
		}
	}
	if len(batch) > 0 {
		return emit(batch)
	}
	return nil
}

func load(cfg connector.Config) ([]device, error) {
	var s settings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	if s.Path == "" {
		return nil, fmt.Errorf("kein Dateipfad angegeben (Einstellung »path«)")
	}
	b, err := os.ReadFile(s.Path)
	if err != nil {
		return nil, fmt.Errorf("die Datei %s ist nicht lesbar: %w", s.Path, err)
	}
	var devices []device
	if err := json.Unmarshal(b, &devices); err != nil {
		return nil, fmt.Errorf("die Datei %s ist keine JSON-Liste von Geräten: %w", s.Path, err)
	}
	return devices, nil
}
