package web

import (
	"bytes"
	"encoding/csv"
	"net/http/httptest"
	"slices"
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
