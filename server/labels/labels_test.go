package labels

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tools finds Debian's pdftoppm (poppler-utils) and zbarimg (zbar-tools),
// which scripts/test installs; without them the test is skipped, except
// in CI, where that would hide a missing install step.
func tools(t *testing.T) (pdftoppm, zbarimg string) {
	t.Helper()
	var missing []string
	for _, n := range []string{"pdftoppm", "pdftotext", "zbarimg"} {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v missing: install poppler-utils and zbar-tools (scripts/test does)", missing)
		}
		t.Skipf("%v missing: install poppler-utils and zbar-tools", missing)
	}
	return "pdftoppm", "zbarimg"
}

// TestSheetDecodes prints 30 labels (two sheets of 24) and reads every QR
// code back from the rendered pages with a real decoder.
func TestSheetDecodes(t *testing.T) {
	pdftoppm, zbarimg := tools(t)
	var ls []Label
	var want []string // in label order
	for i := range 30 {
		u := fmt.Sprintf("https://it.landkreis-musterstadt.de/r/K7M%03d", i)
		ls = append(ls, Label{URL: u, Code: fmt.Sprintf("K7M%03d", i), AssetTag: fmt.Sprintf("FSG-%06d", i),
			Name: "Kyocera ECOSYS M3655idn im Lehrerzimmer, Gebäude Süd, ein sehr langer Name für drei Zeilen"})
		want = append(want, u)
	}
	var buf bytes.Buffer
	if err := Write(&buf, Stock70x36, ls); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "labels.pdf")
	if err := os.WriteFile(pdf, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pdftoppm, "-r", "200", "-png", pdf, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	slices.Sort(pages)
	if len(pages) != 2 {
		t.Fatalf("%d pages, want 2 for 30 labels of 24 a sheet", len(pages))
	}
	// Each label's own area is cut out and decoded alone: the code found
	// there must be that label's, so a label leads to its own device.
	const dpmm = 200 / 25.4
	st := Stock70x36
	var sheets []image.Image
	for _, p := range pages {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		sheets = append(sheets, img)
	}
	for i, want := range want {
		img := sheets[i/st.PerSheet()]
		n := i % st.PerSheet()
		x0 := int((st.Left + float64(n%st.Cols)*(st.W+st.GapX)) * dpmm)
		y0 := int((st.Top + float64(n/st.Cols)*(st.H+st.GapY)) * dpmm)
		cut := img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(x0, y0, x0+int(st.W*dpmm), y0+int(st.H*dpmm)))
		var b bytes.Buffer
		if err := png.Encode(&b, cut); err != nil {
			t.Fatal(err)
		}
		one := filepath.Join(dir, fmt.Sprintf("label%02d.png", i))
		if err := os.WriteFile(one, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", one).Output()
		if got := strings.TrimSpace(string(out)); err != nil || got != want {
			t.Errorf("label %d decodes to %q (%v), want %q", i, got, err, want)
		}
		// The label's own text, read from its area of the PDF: the code,
		// the asset tag and the start of the device's name.
		const ptPerMM = 72 / 25.4
		txt, err := exec.Command("pdftotext", "-f", fmt.Sprint(i/st.PerSheet()+1), "-l", fmt.Sprint(i/st.PerSheet()+1),
			"-x", fmt.Sprint(int(float64(x0)/dpmm*ptPerMM)), "-y", fmt.Sprint(int(float64(y0)/dpmm*ptPerMM)),
			"-W", fmt.Sprint(int(st.W*ptPerMM)), "-H", fmt.Sprint(int(st.H*ptPerMM)), pdf, "-").Output()
		text := strings.Join(strings.Fields(string(txt)), " ")
		for _, part := range []string{ls[i].Code, ls[i].AssetTag, "Kyocera ECOSYS"} {
			if err != nil || !strings.Contains(text, part) {
				t.Errorf("label %d reads %q (%v), want %q on it", i, text, err, part)
			}
		}
	}
	if os.Getenv("CMDB_SCREENSHOTS") != "" {
		// For a person to look at: the first sheet as rendered.
		b, _ := os.ReadFile(pages[0])
		os.WriteFile(filepath.Join("..", "..", os.Getenv("CMDB_SCREENSHOTS"), "labels-a4.png"), b, 0o644)
	}
}
