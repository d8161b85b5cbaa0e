package markdown

import (
	"strings"
	"testing"
)

// TestRenderSanitisesHostileArticle: an article written to attack its
// readers (script tags, event handlers, script URLs, inline frames and
// styles) renders to HTML that carries none of it, while the Markdown
// itself still renders.
func TestRenderSanitisesHostileArticle(t *testing.T) {
	src := "# Kein Bild am Beamer\n\n" +
		"<script>alert('xss')</script>\n\n" +
		"Erst den **Eingang** prüfen.<img src=x onerror=\"alert(1)\">\n\n" +
		"[Anleitung](javascript:alert(document.cookie)) und [noch eine](JaVaScRiPt:alert(2))\n\n" +
		"<a href=\"javascript:alert(3)\" onclick=\"alert(4)\">roh</a>\n\n" +
		"<iframe src=\"https://evil.example\"></iframe><p style=\"background:url(javascript:alert(5))\">stil</p>\n\n" +
		"![Bild](javascript:alert(6))\n\n" +
		"[Handbuch](https://hersteller.example/handbuch.pdf)\n\n" +
		"| Eingang | Taste |\n|---|---|\n| HDMI 1 | Source |\n"
	out, err := Render(src)
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(out)
	for _, bad := range []string{"<script", "alert(", "onerror", "onclick", "javascript:", "<iframe", "style=", "evil.example"} {
		if strings.Contains(lower, bad) {
			t.Errorf("rendered HTML holds %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{"<h1>Kein Bild am Beamer</h1>", "<strong>Eingang</strong>", "<table>", "<td>HDMI 1</td>",
		`href="https://hersteller.example/handbuch.pdf"`} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered HTML lacks %q:\n%s", want, out)
		}
	}
	// The one link that survives is marked for readers' safety.
	i := strings.Index(out, `href="https://hersteller.example/handbuch.pdf"`)
	tag := out[strings.LastIndex(out[:i], "<a "):]
	tag = tag[:strings.IndexByte(tag, '>')]
	if !strings.Contains(tag, "nofollow") || !strings.Contains(tag, "noopener") {
		t.Errorf("external link %s lacks rel nofollow noopener", tag)
	}
}

func TestRenderKeepsPlainText(t *testing.T) {
	for src, want := range map[string]string{
		"":                              "",
		"Zeile eins\nZeile zwei":        "<p>Zeile eins<br>\nZeile zwei</p>\n",
		"1 < 2 & \"Anführung\"":         "<p>1 &lt; 2 &amp; &#34;Anführung&#34;</p>\n",
		"- Kabel prüfen\n- Neu starten": "<ul>\n<li>Kabel prüfen</li>\n<li>Neu starten</li>\n</ul>\n",
	} {
		got, err := Render(src)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Render(%q) = %q, want %q", src, got, want)
		}
	}
}
