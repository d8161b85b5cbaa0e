package csv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// table yields the rows of a sheet, header first. Next returns io.EOF at
// the end; line is where the row starts, for the run log.
type table interface {
	Next() (cells []string, line int, err error)
	// rowCount is about how many rows the sheet has, header included
	// (for progress); 0 when unknown.
	rowCount() int
	Close() error
}

// openTable opens the file at path as CSV or XLSX (by format, else by its
// extension).
func openTable(path string, s Settings) (table, error) {
	format := strings.ToLower(s.Format)
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".xlsx", ".xlsm":
			format = "xlsx"
		default:
			format = "csv"
		}
	}
	if format == "xlsx" {
		return openXLSX(path, s.Sheet)
	}
	raw, err := readFile(path)
	if err != nil {
		return nil, err
	}
	text, err := decode(raw, s.Encoding)
	if err != nil {
		return nil, err
	}
	return newCSVTable(text, s.Delimiter)
}

// decode turns the file's bytes into UTF-8. Without a configured
// encoding: a BOM decides (UTF-8 or UTF-16, as Excel's "Unicode text"
// writes), else valid UTF-8 is UTF-8 and anything else is Windows-1252,
// which is what German Excel writes as "CSV (Trennzeichen-getrennt)".
func decode(raw []byte, enc string) ([]byte, error) {
	var e encoding.Encoding
	switch strings.ToLower(strings.ReplaceAll(enc, "_", "-")) {
	case "", "auto":
		switch {
		case bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}):
			return raw[3:], nil
		case bytes.HasPrefix(raw, []byte{0xFF, 0xFE}), bytes.HasPrefix(raw, []byte{0xFE, 0xFF}):
			e = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
		case utf8.Valid(raw):
			return raw, nil
		default:
			e = charmap.Windows1252
		}
	case "utf-8", "utf8":
		if !utf8.Valid(raw) {
			return nil, errors.New("die Datei ist nicht in UTF-8 kodiert; Kodierung »windows-1252« einstellen")
		}
		return bytes.TrimPrefix(raw, []byte{0xEF, 0xBB, 0xBF}), nil
	case "windows-1252", "cp1252", "latin1", "iso-8859-1":
		e = charmap.Windows1252
	case "iso-8859-15", "latin9":
		e = charmap.ISO8859_15
	case "utf-16":
		e = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	default:
		return nil, fmt.Errorf("unbekannte Kodierung %q", enc)
	}
	out, err := e.NewDecoder().Bytes(raw)
	if err != nil {
		return nil, fmt.Errorf("die Kodierung stimmt nicht: %w", err)
	}
	return out, nil
}

// csvTable reads CSV with the delimiter given, else the one of ";", ","
// and tab that the header line uses most; Excel's "sep=;" first line is
// honoured.
type csvTable struct {
	r    *csv.Reader
	skip int // lines consumed before the reader (sep=)
	rows int // countRows
}

func newCSVTable(text []byte, delimiter string) (*csvTable, error) {
	skip := 0
	first, _, _ := bytes.Cut(text, []byte("\n"))
	first = bytes.TrimSuffix(first, []byte("\r"))
	if bytes.HasPrefix(bytes.ToLower(first), []byte("sep=")) && len(first) == 5 {
		if delimiter == "" {
			delimiter = string(first[4:])
		}
		text = text[len(first):]
		text = bytes.TrimPrefix(bytes.TrimPrefix(text, []byte("\r")), []byte("\n"))
		skip = 1
		first, _, _ = bytes.Cut(text, []byte("\n"))
	}
	comma := ';'
	switch delimiter {
	case "":
		best := 0
		for _, d := range []rune{';', ',', '\t', '|'} {
			if n := countOutsideQuotes(first, d); n > best {
				best, comma = n, d
			}
		}
	case "\\t", "tab", "\t":
		comma = '\t'
	default:
		r, size := utf8.DecodeRuneInString(delimiter)
		if size != len(delimiter) {
			return nil, fmt.Errorf("das Trennzeichen %q ist nicht genau ein Zeichen", delimiter)
		}
		comma = r
	}
	r := csv.NewReader(bytes.NewReader(text))
	r.Comma = comma
	r.FieldsPerRecord = -1 // ragged rows happen; missing cells are empty
	r.LazyQuotes = true    // a stray quote in a model name must not lose the row
	return &csvTable{r: r, skip: skip, rows: countRows(text)}, nil
}

// countRows counts the lines of text that hold anything, a line break
// inside quotes not ending one: the rows the reader will yield, header
// included, give or take rows of empty cells and duplicates (for
// progress, never for logic).
func countRows(text []byte) int {
	n, quoted, content := 0, false, false
	for _, b := range text {
		switch {
		case b == '"':
			quoted, content = !quoted, true
		case b == '\n' && !quoted:
			if content {
				n++
			}
			content = false
		case b != '\r' && b != ' ' && b != '\t':
			content = true
		}
	}
	if content {
		n++
	}
	return n
}

// rowCount is the number of rows, header included, or 0 when unknown.
func (t *csvTable) rowCount() int { return t.rows }

func countOutsideQuotes(line []byte, d rune) int {
	n, quoted := 0, false
	for _, r := range string(line) {
		switch {
		case r == '"':
			quoted = !quoted
		case r == d && !quoted:
			n++
		}
	}
	return n
}

func (t *csvTable) Next() ([]string, int, error) {
	cells, err := t.r.Read()
	if err != nil {
		return nil, 0, err
	}
	line, _ := t.r.FieldPos(0)
	return cells, line + t.skip, nil
}

func (t *csvTable) Close() error { return nil }

// xlsxTable reads one sheet of a workbook, raw cell values (dates as day
// numbers, which parseDate understands, rather than in the sheet's
// display format).
type xlsxTable struct {
	f     *excelize.File
	rows  *excelize.Rows
	line  int
	count int // rowCount
}

func openXLSX(path, sheet string) (*xlsxTable, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("keine lesbare XLSX-Datei: %w", err)
	}
	if sheet == "" {
		sheet = f.GetSheetName(f.GetActiveSheetIndex())
		if sheet == "" {
			sheet = f.GetSheetName(0)
		}
	}
	if idx, err := f.GetSheetIndex(sheet); err != nil || idx < 0 {
		_ = f.Close()
		return nil, fmt.Errorf("die Arbeitsmappe hat kein Blatt %q (vorhanden: %s)", sheet, strings.Join(f.GetSheetList(), ", "))
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	t := &xlsxTable{f: f, rows: rows}
	// The sheet's dimension ("A1:F1001") names its last row; writers that
	// leave it out or write "A1" make the count unknown.
	if dim, err := f.GetSheetDimension(sheet); err == nil {
		if _, last, ok := strings.Cut(dim, ":"); ok {
			if _, row, err := excelize.CellNameToCoordinates(last); err == nil && row > 1 {
				t.count = row
			}
		}
	}
	return t, nil
}

// rowCount is the number of rows, header included, or 0 when unknown.
func (t *xlsxTable) rowCount() int { return t.count }

func (t *xlsxTable) Next() ([]string, int, error) {
	if !t.rows.Next() {
		if err := t.rows.Error(); err != nil {
			return nil, 0, err
		}
		return nil, 0, io.EOF
	}
	t.line++
	cells, err := t.rows.Columns(excelize.Options{RawCellValue: true})
	return cells, t.line, err
}

func (t *xlsxTable) Close() error {
	_ = t.rows.Close()
	return t.f.Close()
}
