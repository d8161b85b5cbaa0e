package cmdb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Default attachment limits: a phone photo or a scanned page fits one
// file; a ticket is not a file share.
const (
	DefaultMaxAttachmentSize       = 10 << 20 // bytes per file
	DefaultMaxTicketAttachmentSize = 25 << 20 // bytes of all files of one ticket
	DefaultMaxTicketAttachments    = 20       // files per ticket
)

// AttachmentLimits bounds attachments; zero fields mean the defaults.
type AttachmentLimits struct {
	MaxFileSize   int64 // bytes per file
	MaxTicketSize int64 // bytes of all files of one ticket together
	MaxFiles      int   // files per ticket
}

// WithDefaults returns the limits with zero fields set to the defaults.
func (l AttachmentLimits) WithDefaults() AttachmentLimits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxAttachmentSize
	}
	if l.MaxTicketSize <= 0 {
		l.MaxTicketSize = DefaultMaxTicketAttachmentSize
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxTicketAttachments
	}
	return l
}

// Attachment media types: the only kinds of file a ticket takes.
const (
	MediaJPEG = "image/jpeg"
	MediaPNG  = "image/png"
	MediaWebP = "image/webp"
	MediaGIF  = "image/gif"
	MediaHEIC = "image/heic"
	MediaHEIF = "image/heif"
	MediaPDF  = "application/pdf"
)

// attachmentExt is the file name extension a download gets for its
// detected type, whatever the name said.
var attachmentExt = map[string]string{
	MediaJPEG: ".jpg", MediaPNG: ".png", MediaWebP: ".webp", MediaGIF: ".gif",
	MediaHEIC: ".heic", MediaHEIF: ".heif", MediaPDF: ".pdf",
}

// Attachment is a photo or PDF on a ticket, optionally on one of its
// comments. Its metadata is what lists show; the bytes are read on their
// own (AttachmentStore.OpenTicketAttachment). Internal attachments are for
// staff and providers; teachers never see them.
type Attachment struct {
	ID        int64 `json:"id"`
	TicketID  int64 `json:"ticket_id"`
	CommentID int64 `json:"comment_id,omitempty"`
	// FileName is the sanitised name the file is downloaded as; its
	// extension follows the detected type.
	FileName string `json:"file_name"`
	// MediaType is detected from the content, never taken from the name
	// or from what the client said.
	MediaType    string    `json:"media_type"`
	Size         int64     `json:"size"`
	SHA256       string    `json:"sha256"`
	Internal     bool      `json:"internal"`
	CreatedBy    string    `json:"created_by"`
	AuthorUserID int64     `json:"author_user_id,omitempty"`
	Channel      string    `json:"channel"`
	CreatedAt    time.Time `json:"created_at"`
}

// Prepare checks a new attachment against the per-file limit and fills
// the fields that follow from its bytes: MediaType (detected), Size,
// SHA256 and a sanitised FileName. EINVALID naming "file" for an empty or
// too large file or one that is no photo or PDF, "comment_id" or
// "channel" for bad values. The per-ticket limits are the store's, since
// they depend on what the ticket already holds.
func (a *Attachment) Prepare(data []byte, l AttachmentLimits) error {
	l = l.WithDefaults()
	switch {
	case len(data) == 0:
		return Invalid("file", "is required and must not be empty")
	case int64(len(data)) > l.MaxFileSize:
		return Invalid("file", "must be at most %s; this file has %s", FormatBytes(l.MaxFileSize), FormatBytes(int64(len(data))))
	}
	mt, err := DetectAttachmentType(data)
	if err != nil {
		return err
	}
	if a.CommentID < 0 {
		return Invalid("comment_id", "must be a comment id of the ticket")
	}
	if a.Channel == "" {
		a.Channel = ChannelAPI
	}
	if !contains(TicketChannels, a.Channel) {
		return Invalid("channel", "must be one of %s", strings.Join(TicketChannels, ", "))
	}
	sum := sha256.Sum256(data)
	a.MediaType, a.Size, a.SHA256 = mt, int64(len(data)), hex.EncodeToString(sum[:])
	a.FileName = SanitizeFileName(a.FileName, mt)
	return nil
}

// DetectAttachmentType returns the media type of data judged by its
// content alone: JPEG, PNG, WebP, GIF, HEIC/HEIF or PDF. Anything else is
// EINVALID naming "file" and saying what the file appears to be, so that
// a renamed .exe or .zip is refused whatever its name.
func DetectAttachmentType(data []byte) (string, error) {
	if mt := heifBrand(data); mt != "" {
		return mt, nil
	}
	// DetectContentType follows the WHATWG sniffing rules: JPEG, PNG,
	// GIF, WebP ("RIFF....WEBPVP") and PDF ("%PDF-") by their signatures.
	detected := http.DetectContentType(data)
	mt, _, _ := strings.Cut(detected, ";")
	switch mt {
	case MediaJPEG, MediaPNG, MediaGIF, MediaWebP, MediaPDF:
		return mt, nil
	}
	// A PDF may start with a few bytes of junk before its header; readers
	// accept "%PDF-" within the first KiB. Not when the start already
	// looks like HTML or XML: such a polyglot is no scan.
	if (mt == "application/octet-stream" || mt == "text/plain") && bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return MediaPDF, nil
	}
	return "", Invalid("file", "must be a photo (JPEG, PNG, WebP, HEIC) or a PDF; this file is %s", describeType(mt, data))
}

// heifBrand recognises HEIC/HEIF (the photo format of iPhones and many
// Android phones), which DetectContentType does not know: an ISO BMFF
// "ftyp" box whose major brand is a HEIF one.
func heifBrand(data []byte) string {
	if len(data) < 12 || string(data[4:8]) != "ftyp" {
		return ""
	}
	switch string(data[8:12]) {
	case "heic", "heix", "heim", "heis", "hevc", "hevx":
		return MediaHEIC
	case "mif1", "msf1", "heif":
		return MediaHEIF
	}
	return ""
}

// describeType names what a refused file appears to be, for the message.
func describeType(mt string, data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("MZ")):
		return "a Windows program (application/x-msdownload)"
	case mt == "application/zip":
		return "a ZIP archive (application/zip; Office documents are ZIP archives too)"
	case mt == "application/octet-stream":
		return "of an unknown binary type"
	case strings.HasPrefix(mt, "text/"):
		return "text (" + mt + ")"
	}
	return mt
}

// SanitizeFileName returns a file name safe to offer for download: the
// base name only (no directories), without control characters, quotes,
// slashes or other characters that could break a Content-Disposition
// header or a file system, at most 100 characters, with the extension of
// the detected media type. An empty result becomes "anhang".
func SanitizeFileName(name, mediaType string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "_")
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsControl(r), r == unicode.ReplacementChar:
		case strings.ContainsRune(`"'<>:|?*;%/\`, r):
			b.WriteRune('_')
		case unicode.IsSpace(r):
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	base := strings.Trim(b.String(), " .")
	if ext := path.Ext(base); ext != "" {
		base = strings.TrimRight(strings.TrimSuffix(base, ext), " .")
	}
	if r := []rune(base); len(r) > 95 {
		base = string(r[:95])
	}
	if base == "" {
		base = "anhang"
	}
	return base + attachmentExt[mediaType]
}

// FormatBytes writes a size for people: "10 MiB", "512 KiB", "17 bytes".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// AttachmentStore keeps ticket attachments. Every method filters by the
// scope like the ticket's comments: a ticket the caller may not see, and
// an internal attachment for a caller who may not read internal
// comments, answer ENOTFOUND.
type AttachmentStore interface {
	// AddTicketAttachment stores data as an attachment of a.TicketID
	// (optionally of comment a.CommentID, whose internal flag it
	// inherits) and fills a. EINVALID naming "file" for a file that is
	// too large, would take the ticket over its size or count limit, or
	// is no photo or PDF; "comment_id" for a comment not of the ticket;
	// EFORBIDDEN naming "internal" when a teacher attaches an internal
	// file; ECONFLICT naming "status" on a closed ticket.
	AddTicketAttachment(ctx context.Context, s Scope, a *Attachment, data []byte) error
	// FindTicketAttachments lists a ticket's attachments (metadata only),
	// oldest first, without internal ones for callers who may not see
	// them.
	FindTicketAttachments(ctx context.Context, s Scope, ticketID int64) ([]*Attachment, error)
	// OpenTicketAttachment returns one attachment with its bytes;
	// ENOTFOUND outside the scope or for an internal one the caller may
	// not see.
	OpenTicketAttachment(ctx context.Context, s Scope, ticketID, id int64) (*Attachment, []byte, error)
}
