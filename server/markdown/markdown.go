// Package markdown turns the Markdown of knowledge-base articles into
// HTML that is safe to put into a page: rendered by goldmark (GitHub
// flavour), then sanitised by bluemonday, so that neither raw HTML nor
// script URLs written into an article ever reach a reader's browser.
package markdown

import (
	"bytes"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// md renders without html.WithUnsafe: raw HTML in the source is left out
// and dangerous link URLs are dropped already here; the policy below is
// the second wall.
var md = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	// Articles made from ticket comments break lines as people type them.
	goldmark.WithRendererOptions(html.WithHardWraps()),
)

// policy is bluemonday's policy for user content: standard URL schemes
// only (http, https, mailto and relative), no scripts, styles or event
// handlers; links get rel="nofollow", and links to other sites open in a
// new tab with rel="noopener".
func policy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.RequireNoReferrerOnFullyQualifiedLinks(false)
	return p
}

var sanitizer = policy()

// Render returns the sanitised HTML of a Markdown text.
func Render(src string) (string, error) {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return sanitizer.Sanitize(buf.String()), nil
}
