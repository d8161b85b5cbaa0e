package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Any list of the console can be taken away as CSV (for Excel: UTF-8
// with BOM, ';' between fields, CRLF, as German Excel reads it) or as
// XLSX. A list page offers the links ?format=csv and ?format=xlsx; its
// handler builds the same rows it shows and calls export.

// exportFormat returns "csv" or "xlsx" when the request asks for an
// export of the list, else "".
func exportFormat(r *http.Request) string {
	switch f := r.URL.Query().Get("format"); f {
	case "csv", "xlsx":
		return f
	}
	return ""
}

// export writes header and rows as a file named name (without the
// extension) in format ("csv" or "xlsx"). Cells are text as shown on
// the page; the caller formats dates and numbers in the page's language.
// Cells hold what people typed (a teacher's ticket title), so none may
// become a formula in the spreadsheet that opens the file: see csvSafe;
// XLSX cells are typed as text.
func export(w http.ResponseWriter, format, name string, header []string, rows [][]string) error {
	var buf bytes.Buffer
	ctype := "text/csv; charset=utf-8"
	switch format {
	case "csv":
		buf.WriteString("\ufeff")
		cw := csv.NewWriter(&buf)
		cw.Comma, cw.UseCRLF = ';', true
		cw.Write(csvSafe(header))
		for _, r := range rows {
			cw.Write(csvSafe(r))
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("web: export %s: %w", name, err)
		}
	case "xlsx":
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		f := excelize.NewFile()
		defer f.Close()
		const sheet = "Sheet1"
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			return fmt.Errorf("web: export %s: %w", name, err)
		}
		bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
		row := func(n int, cells []string, style int) error {
			vals := make([]any, len(cells))
			for i, c := range cells {
				// A string value is an inline string: text, never a
				// formula, whatever it starts with.
				vals[i] = excelize.Cell{Value: c, StyleID: style}
			}
			at, _ := excelize.CoordinatesToCellName(1, n)
			return sw.SetRow(at, vals)
		}
		if err := row(1, header, bold); err != nil {
			return fmt.Errorf("web: export %s: %w", name, err)
		}
		for i, r := range rows {
			if err := row(i+2, r, 0); err != nil {
				return fmt.Errorf("web: export %s: %w", name, err)
			}
		}
		if err := sw.Flush(); err != nil {
			return fmt.Errorf("web: export %s: %w", name, err)
		}
		if err := f.Write(&buf); err != nil {
			return fmt.Errorf("web: export %s: %w", name, err)
		}
	default:
		return fmt.Errorf("web: export format %q", format)
	}
	file := fmt.Sprintf("%s-%s.%s", name, time.Now().Format("2006-01-02"), format)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	w.Write(buf.Bytes())
	return nil
}

// csvSafe returns the cells with every one that a spreadsheet would read
// as a formula (starting with = + - @, a tab or a carriage return)
// prefixed with a single quote, which shows it as the text it is
// (OWASP's advice against CSV injection). The cells are not changed.
func csvSafe(cells []string) []string {
	out := slices.Clone(cells)
	for i, c := range out {
		if c != "" && strings.IndexByte("=+-@\t\r", c[0]) >= 0 {
			out[i] = "'" + c
		}
	}
	return out
}
