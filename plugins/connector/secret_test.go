package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretsNeverShow(t *testing.T) {
	cfg := Config{Settings: json.RawMessage(`{"url":"https://inventar.example"}`), Secrets: map[string]Secret{"token": "s3cr3t-Wert"}}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", cfg, "token", cfg.Secrets["token"])
	marshalled, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg),
		"Sprint": fmt.Sprint(cfg.Secrets["token"]), "json": string(marshalled), "slog": logged.String(),
	} {
		if strings.Contains(out, "s3cr3t") {
			t.Errorf("%s shows the secret: %s", name, out)
		}
	}
	if !strings.Contains(logged.String(), "token") || !strings.Contains(logged.String(), "inventar.example") {
		t.Errorf("the log should still name the secret and show the settings: %s", logged.String())
	}
	if cfg.Secrets["token"].Reveal() != "s3cr3t-Wert" {
		t.Error("Reveal lost the value")
	}
}

func TestPluginLoggerShape(t *testing.T) {
	var out bytes.Buffer
	newPluginLogger(&out, "csv").Warn("Zeile übersprungen", "zeile", 17)
	var entry map[string]any
	if err := json.Unmarshal(out.Bytes(), &entry); err != nil {
		t.Fatalf("not one JSON line: %q", out.String())
	}
	if entry["@message"] != "Zeile übersprungen" || entry["@level"] != "warn" || entry["@timestamp"] == nil || entry["zeile"] != float64(17) {
		t.Fatalf("log entry %v is not in go-plugin's shape", entry)
	}
}
