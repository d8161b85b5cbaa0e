package csv

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"

	"github.com/schulit/cmdb/plugins/connector"
)

func config(t *testing.T, s Settings) connector.Config {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return connector.Config{Settings: b}
}

// pull reads every record of the file with the given settings through
// the connector's gRPC adapters, as the host would.
func pull(t *testing.T, s Settings) []connector.Record {
	t.Helper()
	var out []connector.Record
	err := connector.InProcess(t, New()).Pull(context.Background(), config(t, s), func(b []connector.Record) error {
		if len(b) > connector.MaxBatch {
			t.Fatalf("batch of %d records", len(b))
		}
		out = append(out, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSampleExport(t *testing.T) {
	recs := pull(t, Settings{Path: "testdata/schulamt-export.csv"})
	if len(recs) != 40 {
		t.Fatalf("%d records, want 40", len(recs))
	}
	want := connector.Record{
		SourceKey: "serial:1DEGZD8PCF", ClassHint: "Drucker", Status: "Reparatur", Origin: "schulamt-export.csv Zeile 2",
		Identifiers: connector.Identifiers{Serial: "1DEGZD8PCF", AssetTag: "OSS-000000", MACs: []string{"7b:2e:d9:1e:3f:72"}},
		Attributes: map[string]string{"vendor": "Kyocera", "model": "ECOSYS M3655idn", "purchase_date": "2022-07-03",
			"warranty_until": "2027-07-03"},
		Location: connector.Location{SchoolCode: "OSS", SchoolName: "Oberschule Stolpen", Room: "PC-Kabinett"},
	}
	if !reflect.DeepEqual(recs[0], want) {
		t.Fatalf("first record\n%+v\nwant\n%+v", recs[0], want)
	}
	if m := recs[2].Attributes["model"]; m != `ActivPanel 9 75"` {
		t.Errorf("quoted model = %q", m)
	}
	if n := recs[1].Attributes["notes"]; n != "Akku schwach" {
		t.Errorf("notes = %q", n)
	}
	if l := recs[8].Location.SchoolName; l != "Förderschule Käthe Kollwitz" {
		t.Errorf("umlauts: %q", l)
	}
	for _, r := range recs {
		if len(r.Problems) > 0 {
			t.Errorf("%s: %v", r.Origin, r.Problems)
		}
	}
}

func TestHostileCSV(t *testing.T) {
	win := func(s string) []byte {
		b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name     string
		content  []byte
		settings Settings
		check    func(t *testing.T, recs []connector.Record)
	}{
		{"UTF-8 BOM, semicolon, CRLF", []byte("\ufeffSeriennummer;Raum\r\nA1;1.16\r\n"), Settings{}, func(t *testing.T, r []connector.Record) {
			if len(r) != 1 || r[0].Identifiers.Serial != "A1" || r[0].Location.Room != "1.16" {
				t.Fatalf("%+v", r)
			}
		}},
		{"Windows-1252 umlauts", win("Seriennummer;Gerätetyp;Raum;Schule\r\nA1;Gerät;Büro;Grundschule Große Straße\r\n"), Settings{}, func(t *testing.T, r []connector.Record) {
			if r[0].ClassHint != "Gerät" || r[0].Location.Room != "Büro" || r[0].Location.SchoolName != "Grundschule Große Straße" {
				t.Fatalf("%+v", r[0])
			}
		}},
		{"Windows-1252 configured", win("Serial;Room\nA1;Büro\n"), Settings{Encoding: "windows-1252"}, func(t *testing.T, r []connector.Record) {
			if r[0].Location.Room != "Büro" {
				t.Fatalf("%+v", r[0])
			}
		}},
		{"English with commas", []byte("Serial,Asset Tag,Room,Vendor\nX1,INV-1,Lab 3,\"Dell, Inc.\"\n"), Settings{}, func(t *testing.T, r []connector.Record) {
			if r[0].Identifiers.AssetTag != "INV-1" || r[0].Location.Room != "Lab 3" || r[0].Attributes["vendor"] != "Dell, Inc." {
				t.Fatalf("%+v", r[0])
			}
		}},
		{"quoted newlines keep line numbers", []byte("Seriennummer;Bemerkung\r\nA1;\"Zeile eins\r\n  Zeile zwei \"\r\nA2;x\r\n"), Settings{}, func(t *testing.T, r []connector.Record) {
			if r[0].Attributes["notes"] != "Zeile eins\nZeile zwei" || r[1].Origin != "in.csv Zeile 4" {
				t.Fatalf("%+v", r)
			}
		}},
		{"dates", []byte("Serial;Kaufdatum;Garantie bis\nA;1.2.2023;2023-02-01\nB;01.02.23;\nC;31.02.2023;gestern\n"), Settings{}, func(t *testing.T, r []connector.Record) {
			if r[0].Attributes["purchase_date"] != "2023-02-01" || r[0].Attributes["warranty_until"] != "2023-02-01" || r[1].Attributes["purchase_date"] != "2023-02-01" {
				t.Fatalf("%+v", r[:2])
			}
			if len(r[2].Problems) != 2 || r[2].Problems[0].Field != "Kaufdatum" || r[2].Problems[0].Rule != "date" || r[2].Attributes != nil {
				t.Fatalf("bad dates: %+v", r[2])
			}
		}},
		{"MACs in any notation", []byte("Serial;MAC-Adresse;WLAN-MAC\nA;AA-BB-CC-DD-EE-FF;aabb.ccdd.ee01\nB;\"aa:bb:cc:dd:ee:02, AABBCCDDEE03\";zz:zz\n"), Settings{}, func(t *testing.T, r []connector.Record) {
			if !reflect.DeepEqual(r[0].Identifiers.MACs, []string{"aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:01"}) ||
				!reflect.DeepEqual(r[1].Identifiers.MACs, []string{"aa:bb:cc:dd:ee:02", "aa:bb:cc:dd:ee:03"}) {
				t.Fatalf("%v %v", r[0].Identifiers.MACs, r[1].Identifiers.MACs)
			}
			if len(r[1].Problems) != 1 || r[1].Problems[0].Field != "WLAN-MAC" || r[1].Problems[0].Rule != "mac" {
				t.Fatalf("%+v", r[1].Problems)
			}
		}},
		{"exact duplicates dropped, stray spaces trimmed", []byte("Serial;Raum;Modell\nA1;1.16;X\n  A1 ; 1.16;X;;\nA2;  Raum\u00a0  2 ;Latitude   3540\n\n;;\n"), Settings{}, func(t *testing.T, r []connector.Record) {
			if len(r) != 2 || r[1].Location.Room != "Raum 2" || r[1].Attributes["model"] != "Latitude 3540" {
				t.Fatalf("%+v", r)
			}
		}},
		{"same serial on different rows keeps both", []byte("Serial;Raum\nSN9;1\nSN9;2\n;3\n"), Settings{}, func(t *testing.T, r []connector.Record) {
			if len(r) != 3 || r[0].SourceKey != "serial:SN9" || !strings.HasPrefix(r[1].SourceKey, "row:") ||
				!strings.HasPrefix(r[2].SourceKey, "row:") || r[1].SourceKey == r[2].SourceKey || r[1].Identifiers.Serial != "SN9" {
				t.Fatalf("%+v", r)
			}
		}},
		{"key column, custom mapping, other columns as attributes", []byte("sep=;\nGeräte-Nr.;SN;Fach;Lieferant\nG1;S1;Physik;Müller GmbH\nG1;S2;Chemie;\n"),
			Settings{KeyColumn: "Geräte-Nr.", Columns: map[string]string{"Geräte-Nr.": "asset_tag", "Fach": "ignore"}}, func(t *testing.T, r []connector.Record) {
				if r[0].SourceKey != "G1" || r[0].Identifiers.AssetTag != "G1" || r[0].Identifiers.Serial != "S1" ||
					!reflect.DeepEqual(r[0].Attributes, map[string]string{"Lieferant": "Müller GmbH"}) || r[0].Origin != "in.csv Zeile 3" {
					t.Fatalf("%+v", r[0])
				}
				if len(r[1].Problems) != 1 || r[1].Problems[0].Rule != "unique" {
					t.Fatalf("a repeated key is not named: %+v", r[1])
				}
			}},
		{"asset tag keys a row without serial", []byte("Serial;Inventarnummer;Raum\n;INV-7;1\n;;2\n"), Settings{}, func(t *testing.T, r []connector.Record) {
			if r[0].SourceKey != "asset:INV-7" || !strings.HasPrefix(r[1].SourceKey, "row:") {
				t.Fatalf("%+v", r)
			}
		}},
		{"deleted flag", []byte("Serial;Gelöscht\nA;ja\nB;\n"), Settings{}, func(t *testing.T, r []connector.Record) {
			if !r[0].Deleted || r[1].Deleted {
				t.Fatalf("%+v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.settings.Path = writeFile(t, "in.csv", tt.content)
			tt.check(t, pull(t, tt.settings))
		})
	}
}

func TestXLSX(t *testing.T) {
	f := excelize.NewFile()
	rows := [][]any{
		{"Inventarnummer", "Seriennummer", "Typ", "Kaufdatum", "Schulnummer", "MAC"},
		{"INV-1", "SN1", "Beamer", time.Date(2021, 10, 21, 0, 0, 0, 0, time.UTC), 12345, "00-11-22-33-44-55"},
		{"INV-2", " SN2 ", "Laptop", "03.07.2022", "12345", ""},
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "inventar.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	recs := pull(t, Settings{Path: p})
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.Identifiers.Serial != "SN1" || r.ClassHint != "Beamer" || r.Attributes["purchase_date"] != "2021-10-21" ||
		r.Location.SchoolCode != "12345" || r.Identifiers.MACs[0] != "00:11:22:33:44:55" || r.Origin != "inventar.xlsx Zeile 2" {
		t.Fatalf("%+v", r)
	}
	if recs[1].Identifiers.Serial != "SN2" || recs[1].Attributes["purchase_date"] != "2022-07-03" {
		t.Fatalf("%+v", recs[1])
	}

	res, err := New().Check(context.Background(), config(t, Settings{Path: p, Sheet: "Tabelle9"}))
	if err != nil || res.OK || !strings.Contains(res.Message, `kein Blatt "Tabelle9"`) || !strings.Contains(res.Message, "Sheet1") {
		t.Fatalf("Check with a missing sheet = %+v, %v", res, err)
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	c := connector.InProcess(t, New())
	tests := []struct {
		name     string
		settings string
		ok       bool
		field    string
		message  string
	}{
		{"good", `{"path":"testdata/schulamt-export.csv"}`, true, "", "schulamt-export.csv gelesen: 40 Geräte, Spalten: Inventarnummer → asset_tag, Seriennummer → serial"},
		{"no path", `{}`, false, "path", "Kein Dateipfad"},
		{"not JSON", `[1]`, false, "settings", "kein gültiges JSON"},
		{"missing file", `{"path":"testdata/fehlt.csv"}`, false, "path", "Die Datei testdata/fehlt.csv ist nicht lesbar: die Datei gibt es nicht"},
		{"unknown field", `{"path":"testdata/schulamt-export.csv","columns":{"Raum":"zimmer"}}`, false, "columns.Raum", `unbekannten Feld "zimmer"`},
		{"missing key column", `{"path":"testdata/schulamt-export.csv","key_column":"ID"}`, false, "key_column", `Schlüsselspalte "ID" fehlt`},
		{"no identifier column", `{"path":"` + writeFile(t, "x.csv", []byte("Raum;Schule\n1;2\n")) + `"}`, false, "columns", "Keine Spalte für Seriennummer oder Inventarnummer"},
		{"empty file", `{"path":"` + writeFile(t, "leer.csv", []byte("\r\n\r\n")) + `"}`, false, "path", "Die Datei ist leer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.Check(ctx, connector.Config{Settings: json.RawMessage(tt.settings)})
			if err != nil {
				t.Fatal(err)
			}
			if r.OK != tt.ok || !strings.Contains(r.Message, tt.message) || (!tt.ok && r.Problems[0].Field != tt.field) {
				t.Fatalf("Check = %+v, want ok=%v, field %q, message with %q", r, tt.ok, tt.field, tt.message)
			}
		})
	}
	// Pull fails with the same message instead of pulling nothing.
	err := c.Pull(ctx, connector.Config{Settings: json.RawMessage(`{"path":"testdata/fehlt.csv"}`)}, func([]connector.Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "die Datei gibt es nicht") {
		t.Fatalf("Pull of a missing file = %v", err)
	}
}

func TestDescribeSchema(t *testing.T) {
	d, err := New().Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Required   []string `json:"required"`
		Properties map[string]struct {
			AdditionalProperties struct {
				Enum []string `json:"enum"`
			} `json:"additionalProperties"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(d.ConfigSchema, &s); err != nil {
		t.Fatalf("schema is no JSON: %v", err)
	}
	if !reflect.DeepEqual(s.Required, []string{"path"}) || !reflect.DeepEqual(s.Properties["columns"].AdditionalProperties.Enum, Fields) {
		t.Fatalf("schema does not match Settings and Fields: %+v", s)
	}
	for _, key := range []string{"path", "format", "delimiter", "encoding", "sheet", "key_column", "columns"} {
		if _, ok := s.Properties[key]; !ok {
			t.Errorf("schema lacks %q", key)
		}
	}
}

// expectedTotal pulls the file through the gRPC adapters and returns the
// total the connector announced before its first batch (0: none) and the
// records.
func expectedTotal(t *testing.T, s Settings) (int, int) {
	t.Helper()
	total, records := 0, 0
	ctx := connector.WithExpectTotal(context.Background(), func(n int) { total = n })
	err := connector.InProcess(t, New()).Pull(ctx, config(t, s), func(b []connector.Record) error {
		if records == 0 && total == 0 {
			t.Error("the first batch came before the total")
		}
		records += len(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total, records
}

// TestExpectedTotal: the connector announces its data rows before the
// first batch, so that a first run (nothing known yet) shows progress:
// a quoted line break is one row, blank lines none, the header not
// counted; an XLSX sheet's dimension (as Excel writes it) counts its rows.
func TestExpectedTotal(t *testing.T) {
	csv := writeFile(t, "inventar.csv", []byte("Seriennummer;Bemerkung\r\n\r\nSN1;\"zwei\r\nZeilen\"\r\nSN2;x\r\n  \r\nSN3;y"))
	if total, n := expectedTotal(t, Settings{Path: csv}); total != 3 || n != 3 {
		t.Errorf("csv: announced %d, sent %d; want 3 and 3", total, n)
	}
	f := excelize.NewFile()
	for i := 1; i <= 1201; i++ {
		row := []any{"Seriennummer"}
		if i > 1 {
			row = []any{fmt.Sprintf("SN%d", i)}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	// Excel writes the sheet's dimension; excelize leaves "A1" unless told.
	if err := f.SetSheetDimension("Sheet1", "A1:A1201"); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "inventar.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	if total, n := expectedTotal(t, Settings{Path: p}); total != 1200 || n != 1200 {
		t.Errorf("xlsx: announced %d, sent %d; want 1200 and 1200", total, n)
	}
}

// TestJunkSerialIsNoKey: rows whose serial is a placeholder ("N/A",
// "k. A.") are keyed by their asset tag, else by their content, never by
// the placeholder: such a key went to whichever row came first, so
// sorting the file moved records between devices. The same rows in
// another order keep their keys.
func TestJunkSerialIsNoKey(t *testing.T) {
	rows := []string{"A;N/A;INV-7\r\n", "B;N/A;\r\n", "C;k. A.;\r\n", "D;5CD1234XYZ;\r\n"}
	keys := func(order ...int) map[string]string {
		text := "Zeichen;Seriennummer;Inventarnummer\r\n"
		for _, i := range order {
			text += rows[i]
		}
		out := map[string]string{}
		for _, r := range pull(t, Settings{Path: writeFile(t, "inventar.csv", []byte(text))}) {
			out[r.Attributes["Zeichen"]] = r.SourceKey
		}
		return out
	}
	first := keys(0, 1, 2, 3)
	if first["A"] != "asset:INV-7" || !strings.HasPrefix(first["B"], "row:") || !strings.HasPrefix(first["C"], "row:") ||
		first["D"] != "serial:5CD1234XYZ" {
		t.Fatalf("keys %v", first)
	}
	if again := keys(3, 2, 1, 0); !maps.Equal(first, again) {
		t.Errorf("keys %v, after reordering the rows %v", first, again)
	}
}
