package cmdb_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

// samplePNG, sampleJPEG and sampleGIF encode a small real picture.
func sampleImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{200, 30, 30, 255})
	}
	return img
}

func samplePNG(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, sampleImage()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleJPEG(t *testing.T) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, sampleImage(), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleGIF(t *testing.T) []byte {
	var b bytes.Buffer
	if err := gif.Encode(&b, sampleImage(), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// minimalPDF is a one-page PDF as a scanner writes it, cut to the bone.
const minimalPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

// webpHeader is the start of a lossy WebP file (RIFF container, VP8 chunk).
var webpHeader = append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"), make([]byte, 24)...)

// heicHeader is the start of an iPhone photo: an ftyp box with brand heic.
var heicHeader = append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 32)...)

func sampleZIP(t *testing.T) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, _ := w.Create("word/document.xml")
	f.Write([]byte("<w:document/>"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDetectAttachmentType(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"png", samplePNG(t), cmdb.MediaPNG},
		{"jpeg", sampleJPEG(t), cmdb.MediaJPEG},
		{"gif", sampleGIF(t), cmdb.MediaGIF},
		{"pdf", []byte(minimalPDF), cmdb.MediaPDF},
		{"pdf after junk", append([]byte("\r\n\x00junk"), minimalPDF...), cmdb.MediaPDF},
		{"webp", webpHeader, cmdb.MediaWebP},
		{"heic", heicHeader, cmdb.MediaHEIC},
		{"heif mif1", append([]byte("\x00\x00\x00\x18ftypmif1"), make([]byte, 20)...), cmdb.MediaHEIF},
		{"heix", append([]byte("\x00\x00\x00\x18ftypheix"), make([]byte, 20)...), cmdb.MediaHEIC},
	} {
		got, err := cmdb.DetectAttachmentType(tc.data)
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name, says string
		data       []byte
	}{
		{"zip renamed to .jpg", "ZIP archive", sampleZIP(t)},
		{"exe renamed to .pdf", "Windows program", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 60)...)},
		{"text", "text/plain", []byte("Sehr geehrte Damen und Herren, der Drucker …")},
		{"html", "text/html", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")},
		{"html with a PDF header inside", "text/html", []byte("<html><script>alert(1)</script>%PDF-1.4</html>")},
		{"mp4 (ftyp, not HEIF)", "unknown binary type", append([]byte("\x00\x00\x00\x18ftypisom"), make([]byte, 20)...)},
		{"svg (script inside)", "text/xml", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
	} {
		_, err := cmdb.DetectAttachmentType(tc.data)
		var e *cmdb.Error
		if !errors.As(err, &e) || e.Code != cmdb.EINVALID || e.Field != "file" || !strings.Contains(e.Message, "must be a photo") ||
			!strings.Contains(e.Message, tc.says) {
			t.Errorf("%s: %v, want EINVALID naming file and saying %q", tc.name, err, tc.says)
		}
	}
}

func TestAttachmentPrepare(t *testing.T) {
	png := samplePNG(t)
	a := &cmdb.Attachment{FileName: `C:\Users\meier\Desktop\Drucker "kaputt".exe`}
	if err := a.Prepare(png, cmdb.AttachmentLimits{}); err != nil {
		t.Fatal(err)
	}
	if a.MediaType != cmdb.MediaPNG || a.Size != int64(len(png)) || len(a.SHA256) != 64 || a.Channel != cmdb.ChannelAPI {
		t.Errorf("prepared: %+v", a)
	}
	// The name says .exe; the content is a PNG, and the download says so.
	if a.FileName != "Drucker _kaputt_.png" {
		t.Errorf("file name %q", a.FileName)
	}
	big := append(append([]byte(nil), png...), make([]byte, 2048)...)
	err := (&cmdb.Attachment{}).Prepare(big, cmdb.AttachmentLimits{MaxFileSize: 1024})
	var e *cmdb.Error
	if !errors.As(err, &e) || e.Field != "file" || !strings.Contains(e.Message, "at most 1 KiB") {
		t.Errorf("too large: %v", err)
	}
	if err := (&cmdb.Attachment{}).Prepare(nil, cmdb.AttachmentLimits{}); cmdb.ErrorCode(err) != cmdb.EINVALID {
		t.Errorf("empty: %v", err)
	}
}

func TestSanitizeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"Foto.JPG":                        "Foto.pdf",
		"../../etc/passwd":                "passwd.pdf",
		"scan\r\nContent-Type: text":      "scanContent-Type_ text.pdf",
		"":                                "anhang.pdf",
		"...":                             "anhang.pdf",
		"Rechnung März 2026.pdf":          "Rechnung März 2026.pdf",
		"a;b%c.pdf":                       "a_b_c.pdf",
		strings.Repeat("x", 300) + ".pdf": strings.Repeat("x", 95) + ".pdf",
		"bad\xffutf8.pdf":                 "bad_utf8.pdf",
	} {
		if got := cmdb.SanitizeFileName(in, cmdb.MediaPDF); got != want {
			t.Errorf("SanitizeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
