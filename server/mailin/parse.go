// Package mailin reads ticket mail from an IMAP mailbox: it parses each
// message (MIME by github.com/emersion/go-message), classifies it as a new
// ticket, a reply or mail to drop, hands the first two to a
// cmdb.MailIntake and files every message into a folder.
package mailin

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // ISO-8859-x, Windows-125x bodies and headers
	"github.com/emersion/go-message/mail"
	"golang.org/x/net/html"

	"github.com/schulit/cmdb/server/cmdb"
)

// Limits bound what one mail may cost to parse.
const (
	// MaxMailBytes is the largest message read; larger ones are malformed.
	MaxMailBytes = 32 << 20
	// maxParts bounds the MIME parts walked in one message.
	maxParts = 100
)

// ErrMalformed is wrapped by Parse errors for mail that cannot be read.
var ErrMalformed = errors.New("malformed mail")

// Options tell Classify which mail is our own.
type Options struct {
	// OwnAddresses are the intake mailbox's addresses (lower case); mail
	// from them is a loop.
	OwnAddresses []string
}

// Parse reads one raw RFC 5322 message into an InboundMail and classifies
// it. A message that cannot be read is returned with Class MailDrop /
// DropMalformed together with an error wrapping ErrMalformed; the mail
// then holds what could be read (at least the raw headers' subject when
// the header parsed).
func Parse(raw []byte, opts Options) (*cmdb.InboundMail, error) {
	m, h, err := parse(raw)
	if err != nil {
		m.Class = cmdb.MailClass{Kind: cmdb.MailDrop, DropReason: cmdb.DropMalformed, Detail: err.Error()}
		return m, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	m.Class = Classify(h, m, opts)
	return m, nil
}

func parse(raw []byte) (*cmdb.InboundMail, *mail.Header, error) {
	m := &cmdb.InboundMail{}
	if len(raw) > MaxMailBytes {
		return m, nil, fmt.Errorf("message larger than %d bytes", MaxMailBytes)
	}
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return m, nil, fmt.Errorf("header: %v", err)
	}
	h := &mail.Header{Header: e.Header}
	if s, err := h.Subject(); err == nil {
		m.Subject = strings.TrimSpace(s)
	} else {
		m.Subject = h.Get("Subject")
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) == 0 {
		// A null or unparsable sender: keep the raw text for the bounce
		// check and the log.
		m.FromAddress = strings.ToLower(strings.TrimSpace(h.Get("From")))
	} else {
		m.FromAddress = strings.ToLower(from[0].Address)
		m.FromName = from[0].Name
	}
	for _, key := range []string{"To", "Cc"} {
		if l, err := h.AddressList(key); err == nil {
			for _, a := range l {
				m.To = append(m.To, strings.ToLower(a.Address))
			}
		}
	}
	m.MessageID, _ = h.MessageID()
	if m.MessageID == "" {
		// The intake keys on the id; a mail without one gets one made
		// from its bytes, so that handing it in again is still noticed.
		sum := sha256.Sum256(raw)
		m.MessageID = fmt.Sprintf("sha256-%x@mailin.invalid", sum[:16])
	}
	m.InReplyTo, _ = h.MsgIDList("In-Reply-To")
	m.References, _ = h.MsgIDList("References")
	if d, err := h.Date(); err == nil {
		m.Date = d
	}

	var plain, htmlText []string
	parts := 0
	err = e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		if parts++; parts > maxParts {
			return fmt.Errorf("more than %d MIME parts", maxParts)
		}
		ct, params, cterr := part.Header.ContentType()
		if cterr != nil {
			ct = "text/plain"
		}
		if strings.HasPrefix(ct, "multipart/") {
			if params["boundary"] == "" {
				return fmt.Errorf("%s without boundary", ct)
			}
			return nil
		}
		disp, dparams, _ := part.Header.ContentDisposition()
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		if name != "" {
			if dec, err := new(mime.WordDecoder).DecodeHeader(name); err == nil {
				name = dec
			}
		}
		body, err := io.ReadAll(io.LimitReader(part.Body, MaxMailBytes))
		if err != nil {
			return fmt.Errorf("part %v: %v", path, err)
		}
		switch ct {
		case "message/delivery-status", "message/disposition-notification", "text/rfc822-headers":
			return nil // report machinery, neither text nor a file
		}
		isText := ct == "text/plain" || ct == "text/html"
		if disp == "attachment" || !isText || (name != "" && disp != "inline") {
			if len(body) == 0 {
				return nil
			}
			if name == "" {
				name = fmt.Sprintf("attachment-%d", len(m.Attachments)+1)
			}
			m.Attachments = append(m.Attachments, cmdb.MailAttachment{
				Name:        name,
				ContentType: http.DetectContentType(body),
				Data:        body,
				Size:        len(body),
			})
			return nil
		}
		switch ct {
		case "text/plain":
			plain = append(plain, string(body))
		case "text/html":
			htmlText = append(htmlText, htmlToText(string(body)))
		}
		return nil
	})
	if err != nil {
		return m, h, err
	}
	if len(plain) > 0 {
		m.Text = strings.Join(plain, "\n")
	} else {
		m.Text = strings.Join(htmlText, "\n")
	}
	m.Text = strings.TrimSpace(strings.ReplaceAll(m.Text, "\r\n", "\n"))
	return m, h, nil
}

// htmlToText returns the text a reader sees in an HTML body: tags, style
// and script removed, block elements on their own lines.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			lines := strings.Split(b.String(), "\n")
			out := lines[:0]
			for _, l := range lines {
				if l = strings.Join(strings.Fields(l), " "); l != "" {
					out = append(out, l)
				}
			}
			return strings.Join(out, "\n")
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head":
				skip++
			case "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "table":
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head":
				if skip > 0 {
					skip--
				}
			case "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "table":
				b.WriteByte('\n')
			}
		case html.TextToken:
			if skip == 0 {
				b.WriteString(strings.ReplaceAll(string(z.Text()), "\u00a0", " "))
			}
		}
	}
}
