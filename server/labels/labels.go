// Package labels prints QR label sheets: A4 PDFs for common label stock,
// one label per device with its QR code (the address that opens the
// report flow for it), its name, asset tag and its short code in large
// type, so that a person without a camera can type it.
package labels

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/go-pdf/fpdf"
)

// Label is what one device's label shows.
type Label struct {
	// URL is what the QR code holds, such as https://it.kreis.de/r/K7M2QX.
	URL      string
	Code     string // the short code, printed large
	Name     string
	AssetTag string
}

// Stock is a sheet of labels: A4, Cols × Rows labels of W × H mm, the
// first one Left mm from the left edge and Top mm from the top, GapX and
// GapY mm apart.
type Stock struct {
	Name                        string
	Cols, Rows                  int
	W, H, Left, Top, GapX, GapY float64
}

// Stock70x36 is the common 70 × 36 mm stock, 3 × 8 on A4 without side
// margins (e.g. Avery Zweckform 3475).
var Stock70x36 = Stock{Name: "70x36", Cols: 3, Rows: 8, W: 70, H: 36, Left: 0, Top: 4.5}

// PerSheet is how many labels one sheet holds.
func (s Stock) PerSheet() int { return s.Cols * s.Rows }

// Write writes the labels as a PDF on as many sheets of stock as they
// take. Texts too long for a label are cut with "…".
func Write(w io.Writer, stock Stock, ls []Label) error {
	if stock.PerSheet() <= 0 || stock.W <= 0 || stock.H <= 0 {
		return fmt.Errorf("labels: stock %q has no labels", stock.Name)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCreator("cmdb", true)
	pdf.SetTitle("QR-Etiketten", true)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252: German umlauts in the core fonts
	if len(ls) == 0 {
		pdf.AddPage()
	}
	for i, l := range ls {
		if i%stock.PerSheet() == 0 {
			pdf.AddPage()
		}
		n := i % stock.PerSheet()
		x := stock.Left + float64(n%stock.Cols)*(stock.W+stock.GapX)
		y := stock.Top + float64(n/stock.Cols)*(stock.H+stock.GapY)
		if err := draw(pdf, tr, stock, x, y, i, l); err != nil {
			return err
		}
	}
	return pdf.Output(w)
}

// draw puts one label at x, y: the QR code on the left, as large as the
// label is high less a quiet margin; on the right the short code large,
// then name and asset tag.
func draw(pdf *fpdf.Fpdf, tr func(string) string, s Stock, x, y float64, i int, l Label) error {
	code, err := qr.Encode(l.URL, qr.M, qr.Auto)
	if err != nil {
		return fmt.Errorf("labels: QR code of %s: %w", l.Code, err)
	}
	// Whole pixels per module, so that the printed modules are even.
	px := code.Bounds().Dx() * 8
	code, err = barcode.Scale(code, px, px)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, code); err != nil {
		return err
	}
	name := fmt.Sprintf("qr%d", i)
	pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, &buf)
	margin := 3.0
	side := s.H - 2*margin
	pdf.ImageOptions(name, x+margin, y+margin, side, side, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")

	tx := x + margin + side + 2
	tw := s.W - (tx - x) - margin
	pdf.SetTextColor(0, 0, 0)
	pdf.SetFont("Helvetica", "", 6.5)
	pdf.SetXY(tx, y+margin)
	pdf.CellFormat(tw, 3, tr("Störung? Code scannen"), "", 0, "L", false, 0, "")
	pdf.SetFont("Helvetica", "B", 17)
	pdf.SetXY(tx, y+margin+4)
	pdf.CellFormat(tw, 8, l.Code, "", 0, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 7.5)
	lines := pdf.SplitText(latin1(l.Name), tw)
	if len(lines) > 3 {
		lines = append(lines[:2], fit(pdf, lines[2]+"...", tw))
	}
	yy := y + margin + 14
	for _, ln := range lines {
		pdf.SetXY(tx, yy)
		pdf.CellFormat(tw, 3.4, tr(ln), "", 0, "L", false, 0, "")
		yy += 3.4
	}
	if l.AssetTag != "" {
		pdf.SetFont("Helvetica", "B", 7.5)
		pdf.SetXY(tx, y+s.H-margin-3.4)
		pdf.CellFormat(tw, 3.4, tr(fit(pdf, latin1("Inv.-Nr. "+l.AssetTag), tw)), "", 0, "L", false, 0, "")
	}
	return nil
}

// fit cuts s and ends it with "..." until it fits width w in the current
// font. s holds Latin-1 characters only (see latin1), which the core
// fonts measure.
func fit(pdf *fpdf.Fpdf, s string, w float64) string {
	for pdf.GetStringWidth(s) > w && len(s) > 3 {
		r := []rune(strings.TrimSuffix(s, "..."))
		s = string(r[:len(r)-1]) + "..."
	}
	return s
}

// latin1 replaces what the core fonts cannot show (outside Latin-1) with
// "?", so that measuring and the cp1252 translation agree.
func latin1(s string) string {
	return strings.Map(func(r rune) rune {
		if r > 255 {
			return '?'
		}
		return r
	}, s)
}
