// Package csv is the connector for inventory spreadsheets as school
// authorities export them: CSV (German Excel with ";" and CRLF, UTF-8
// with or without BOM, Windows-1252) and XLSX. Columns are mapped to
// record fields by their headers, with defaults for common German and
// English headers; other columns become attributes under their header.
//
// Values are trimmed and brought into one notation (MACs, dates as
// YYYY-MM-DD); judging them (junk serials, unknown classes) is the
// server's work, except that a junk serial never becomes a record's key.
// Exact duplicate rows are dropped.
package csv

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/plugins/connector/junk"
)

// Version is the connector's version.
const Version = "1.0.0"

//go:embed schema.json
var schema []byte

// Settings is the instance configuration (Config.Settings).
type Settings struct {
	Path      string            `json:"path"`       // the file on the server
	Format    string            `json:"format"`     // "csv" or "xlsx"; default by extension
	Delimiter string            `json:"delimiter"`  // CSV; default: detected from the header line
	Encoding  string            `json:"encoding"`   // CSV; default: BOM, else UTF-8 if valid, else Windows-1252
	Sheet     string            `json:"sheet"`      // XLSX; default: the active sheet
	KeyColumn string            `json:"key_column"` // header of the source's own key; default: serial, else asset tag, else a hash of the row
	Columns   map[string]string `json:"columns"`    // header → field, before the defaults
}

// Connector reads one spreadsheet file per instance. It only pulls.
type Connector struct {
	connector.NoPush
}

// New returns the csv connector.
func New() *Connector { return &Connector{} }

// Describe implements connector.Connector.
func (c *Connector) Describe(context.Context) (connector.Description, error) {
	return connector.Description{Name: "csv", Version: Version,
		Capabilities: []connector.Capability{connector.CapPull}, ConfigSchema: schema}, nil
}

// Check reads the whole file as Pull would and says whether its columns
// map, in German.
func (c *Connector) Check(ctx context.Context, cfg connector.Config) (connector.CheckResult, error) {
	s, m, t, problems := open(cfg)
	if problems != nil {
		return connector.CheckResult{OK: false, Message: problems[0].Message, Problems: problems}, nil
	}
	defer t.Close()
	n, bad := 0, 0
	err := m.each(ctx, t, func(r connector.Record) error {
		n++
		if len(r.Problems) > 0 {
			bad++
		}
		return nil
	})
	if err != nil {
		return connector.CheckResult{OK: false, Message: fmt.Sprintf("Die Datei %s ist nicht lesbar: %v", filepath.Base(s.Path), err),
			Problems: []connector.Problem{{Field: "path", Rule: "readable", Message: err.Error()}}}, nil
	}
	msg := fmt.Sprintf("%s gelesen: %d Geräte, Spalten: %s.", filepath.Base(s.Path), n, m.describe())
	if bad > 0 {
		msg += fmt.Sprintf(" %d Zeilen haben unlesbare Werte (MAC-Adresse oder Datum).", bad)
	}
	return connector.CheckResult{OK: true, Message: msg}, nil
}

// Pull implements connector.Connector: records in batches of
// connector.MaxBatch, in file order.
func (c *Connector) Pull(ctx context.Context, cfg connector.Config, emit func([]connector.Record) error) error {
	_, m, t, problems := open(cfg)
	if problems != nil {
		return errors.New(problems[0].Message)
	}
	defer t.Close()
	// The header is read; the host shows progress against the rest.
	connector.ExpectTotal(ctx, t.rowCount()-1)
	batch := make([]connector.Record, 0, connector.MaxBatch)
	err := m.each(ctx, t, func(r connector.Record) error {
		batch = append(batch, r)
		if len(batch) < connector.MaxBatch {
			return nil
		}
		err := emit(batch)
		batch = make([]connector.Record, 0, connector.MaxBatch)
		return err
	})
	if err != nil {
		return err
	}
	if len(batch) > 0 {
		return emit(batch)
	}
	return nil
}

// open reads the settings, opens the file and maps its header; what stops
// it is a list of problems, the first one for the message.
func open(cfg connector.Config) (Settings, *mapping, table, []connector.Problem) {
	var s Settings
	if err := cfg.Decode(&s); err != nil {
		return s, nil, nil, []connector.Problem{{Field: "settings", Rule: "json", Message: "Die Einstellungen sind kein gültiges JSON-Objekt: " + err.Error()}}
	}
	if strings.TrimSpace(s.Path) == "" {
		return s, nil, nil, []connector.Problem{{Field: "path", Rule: "required", Message: "Kein Dateipfad angegeben (Einstellung »path«)."}}
	}
	for header, field := range s.Columns {
		if !slices.Contains(Fields, field) {
			return s, nil, nil, []connector.Problem{{Field: "columns." + header, Rule: "field",
				Message: fmt.Sprintf("Die Spalte %q ist dem unbekannten Feld %q zugeordnet (erlaubt: %s).", header, field, strings.Join(Fields, ", "))}}
		}
	}
	t, err := openTable(s.Path, s)
	if err != nil {
		return s, nil, nil, []connector.Problem{{Field: "path", Rule: "readable", Message: fmt.Sprintf("Die Datei %s ist nicht lesbar: %v", s.Path, err)}}
	}
	m, problems := readHeader(t, s)
	if problems != nil {
		_ = t.Close()
		return s, nil, nil, problems
	}
	return s, m, t, nil
}

func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, errors.New("die Datei gibt es nicht")
	case errors.Is(err, os.ErrPermission):
		return nil, errors.New("keine Leseberechtigung")
	case err != nil:
		return nil, err
	}
	return b, nil
}

// mapping is what each column of the file means.
type mapping struct {
	file    string
	headers []string
	fields  []string // per column: a Field, or "" for an attribute
	key     int      // column of the key, or -1
}

// readHeader takes the first non-empty row as the header and maps it.
func readHeader(t table, s Settings) (*mapping, []connector.Problem) {
	var header []string
	for {
		cells, _, err := t.Next()
		if errors.Is(err, io.EOF) {
			return nil, []connector.Problem{{Field: "path", Rule: "header", Message: "Die Datei ist leer: keine Kopfzeile gefunden."}}
		}
		if err != nil {
			return nil, []connector.Problem{{Field: "path", Rule: "readable", Message: "Die Kopfzeile ist nicht lesbar: " + err.Error()}}
		}
		if !blank(cells) {
			header = cells
			break
		}
	}
	overrides := map[string]string{}
	for h, f := range s.Columns {
		overrides[normHeader(h)] = f
	}
	m := &mapping{file: filepath.Base(s.Path), key: -1}
	seen := map[string]bool{}
	for i, h := range header {
		h = clean(strings.TrimPrefix(h, "\ufeff"))
		if h == "" {
			h = fmt.Sprintf("Spalte %d", i+1)
		}
		n := normHeader(h)
		f, ok := overrides[n]
		if !ok {
			f = DefaultHeaders[n]
		}
		// The first column wins a field; a second "Raum" is an attribute.
		if f != "" && f != FieldIgnore && f != FieldMAC && f != FieldNotes && seen[f] {
			f = ""
		}
		seen[f] = true
		if s.KeyColumn != "" && n == normHeader(s.KeyColumn) {
			m.key = i
		}
		m.headers = append(m.headers, h)
		m.fields = append(m.fields, f)
	}
	if s.KeyColumn != "" && m.key < 0 {
		return nil, []connector.Problem{{Field: "key_column", Rule: "header",
			Message: fmt.Sprintf("Die Schlüsselspalte %q fehlt in der Kopfzeile (vorhanden: %s).", s.KeyColumn, strings.Join(m.headers, ", "))}}
	}
	if !seen[FieldSerial] && !seen[FieldAssetTag] && m.key < 0 {
		return nil, []connector.Problem{{Field: "columns", Rule: "identifier",
			Message: fmt.Sprintf("Keine Spalte für Seriennummer oder Inventarnummer gefunden (Kopfzeile: %s); Spalten unter »columns« zuordnen.", strings.Join(m.headers, ", "))}}
	}
	return m, nil
}

// describe lists the mapping for people: "Seriennummer → serial, …".
func (m *mapping) describe() string {
	var parts []string
	for i, h := range m.headers {
		f := m.fields[i]
		if f == "" {
			f = "Attribut"
		}
		parts = append(parts, h+" → "+f)
	}
	return strings.Join(parts, ", ")
}

func blank(cells []string) bool {
	for _, c := range cells {
		if clean(c) != "" {
			return false
		}
	}
	return true
}

// each turns the remaining rows into records, skipping blank rows and
// exact duplicates of an earlier row.
func (m *mapping) each(ctx context.Context, t table, f func(connector.Record) error) error {
	rows := map[[32]byte]bool{}
	keys := map[string]int{} // key → line, to keep keys unique
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		cells, line, err := t.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s Zeile %d: %w", m.file, line, err)
		}
		if blank(cells) {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		for len(cells) > 0 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1] // a ragged row equals its padded twin
		}
		sum := sha256.Sum256([]byte(strings.Join(cells, "\x1f")))
		if rows[sum] {
			continue
		}
		rows[sum] = true
		r := m.record(cells, line, sum)
		if prev, dup := keys[r.SourceKey]; dup {
			if m.key >= 0 {
				r.Problems = append(r.Problems, connector.Problem{Field: "key_column", Rule: "unique",
					Message: fmt.Sprintf("Schlüssel %q steht schon in Zeile %d.", r.SourceKey, prev)})
			} else {
				// The same serial on a different row: keep both, keyed by
				// content, and let the server judge the serial.
				r.SourceKey = "row:" + hex.EncodeToString(sum[:8])
			}
		}
		keys[r.SourceKey] = line
		if err := f(r); err != nil {
			return err
		}
	}
}

// record builds the record of one row.
func (m *mapping) record(cells []string, line int, sum [32]byte) connector.Record {
	r := connector.Record{Origin: fmt.Sprintf("%s Zeile %d", m.file, line), Attributes: map[string]string{}}
	for i, f := range m.fields {
		if i >= len(cells) {
			break
		}
		raw := cells[i]
		v := clean(raw)
		if v == "" || f == FieldIgnore {
			continue
		}
		switch f {
		case FieldSerial:
			r.Identifiers.Serial = v
		case FieldAssetTag:
			r.Identifiers.AssetTag = v
		case FieldHardwareUUID:
			r.Identifiers.HardwareUUID = strings.ToLower(v)
		case FieldDeviceID:
			r.Identifiers.SourceDeviceID = v
		case FieldHostname:
			r.Identifiers.Hostname = v
		case FieldMAC:
			macs, bad := parseMACs(v)
			for _, mac := range macs {
				if !slices.Contains(r.Identifiers.MACs, mac) {
					r.Identifiers.MACs = append(r.Identifiers.MACs, mac)
				}
			}
			for _, b := range bad {
				r.Problems = append(r.Problems, connector.Problem{Field: m.headers[i], Rule: "mac",
					Message: fmt.Sprintf("%q ist keine MAC-Adresse.", b)})
			}
		case FieldClass:
			r.ClassHint = v
		case FieldStatus:
			r.Status = v
		case FieldDeleted:
			r.Deleted = parseBool(v)
		case FieldSchoolCode:
			r.Location.SchoolCode = v
		case FieldSchoolName:
			r.Location.SchoolName = v
		case FieldBuilding:
			r.Location.Building = v
		case FieldRoom:
			r.Location.Room = v
		case FieldPurchaseDate, FieldWarrantyUntil:
			d, err := parseDate(v)
			if err != nil {
				r.Problems = append(r.Problems, connector.Problem{Field: m.headers[i], Rule: "date", Message: err.Error()})
				continue
			}
			r.Attributes[f] = d
		case FieldNotes:
			if t := cleanText(raw); r.Attributes[f] == "" {
				r.Attributes[f] = t
			} else {
				r.Attributes[f] += "\n" + t
			}
		case "":
			r.Attributes[m.headers[i]] = v
		default: // vendor, model, name, owner
			r.Attributes[f] = v
		}
	}
	switch {
	case m.key >= 0 && m.key < len(cells) && clean(cells[m.key]) != "":
		r.SourceKey = clean(cells[m.key])
	case r.Identifiers.Serial != "" && !junk.Serial(r.Identifiers.Serial):
		// A placeholder ("N/A", "k.A.") stands on many rows: a key of it
		// would go to whichever row comes first, and move with the order.
		r.SourceKey = "serial:" + r.Identifiers.Serial
	case r.Identifiers.AssetTag != "":
		// Stabler than the row's content, which changes with every move.
		r.SourceKey = "asset:" + r.Identifiers.AssetTag
	default:
		r.SourceKey = "row:" + hex.EncodeToString(sum[:8])
	}
	if len(r.Attributes) == 0 {
		r.Attributes = nil
	}
	return r
}

// Schema returns the JSON schema of Settings.
func Schema() json.RawMessage { return schema }
