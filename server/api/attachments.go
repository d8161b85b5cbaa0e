package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// multipartSlack is what a multipart upload may carry besides the file:
// boundaries, part headers and the small fields internal and comment_id.
const multipartSlack = 64 << 10

func (s *Server) attachmentLimits() cmdb.AttachmentLimits {
	return s.opts.AttachmentLimits.WithDefaults()
}

// tooLarge is the answer for an upload over the per-file limit: 413
// naming the field and the limit.
func tooLarge(limit int64) error {
	return &cmdb.Error{Code: cmdb.ETOOLARGE, Field: "file", Message: "must be at most " + cmdb.FormatBytes(limit) + " per file"}
}

// addTicketAttachment takes multipart/form-data with the field file and
// the optional fields internal (true/false) and comment_id. The body is
// limited to the per-file limit (plus the form's own overhead), so an
// oversized upload is refused as soon as it is announced or read, not
// after it was buffered.
func (s *Server) addTicketAttachment(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := s.ticketID(r, sc)
	if err != nil {
		return err
	}
	limit := s.attachmentLimits().MaxFileSize
	if r.ContentLength > limit+multipartSlack {
		return tooLarge(limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return cmdb.Invalid("body", "must be multipart/form-data with the field file (and optionally internal, comment_id)")
	}
	a := &cmdb.Attachment{TicketID: id, Channel: cmdb.ChannelAPI}
	var data []byte
	seenFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return formError(err, limit)
		}
		name := part.FormName()
		switch name {
		case "file":
			if seenFile {
				return cmdb.Invalid("file", "must be sent once; upload one file per request")
			}
			seenFile = true
			a.FileName = part.FileName()
			if data, err = io.ReadAll(io.LimitReader(part, limit+1)); err != nil {
				return formError(err, limit)
			}
			if int64(len(data)) > limit {
				return tooLarge(limit)
			}
		case "internal", "comment_id":
			v, err := io.ReadAll(io.LimitReader(part, 32))
			if err != nil {
				return formError(err, limit)
			}
			if name == "internal" {
				if a.Internal, err = strconv.ParseBool(strings.TrimSpace(string(v))); err != nil {
					return cmdb.Invalid("internal", "must be true or false")
				}
			} else if a.CommentID, err = strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64); err != nil || a.CommentID <= 0 {
				return cmdb.Invalid("comment_id", "must be the id of a comment of the ticket")
			}
		default:
			if !validText(name) {
				name = "body"
			}
			return cmdb.Invalid(name, "is not a known field; send file, and optionally internal and comment_id")
		}
	}
	if !seenFile {
		return cmdb.Invalid("file", "is required: a photo (JPEG, PNG, WebP, HEIC) or a PDF as the form field file")
	}
	if err := s.opts.Attachments.AddTicketAttachment(r.Context(), sc, a, data); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tickets/"+strconv.FormatInt(a.TicketID, 10)+"/attachments/"+strconv.FormatInt(a.ID, 10))
	writeJSON(w, http.StatusCreated, a)
	return nil
}

// formError turns an error reading the multipart body into the answer:
// 413 for a body over the limit, else 400 naming the body.
func formError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(limit)
	}
	return cmdb.Invalid("body", "malformed multipart/form-data: %s", err.Error())
}

func (s *Server) listTicketAttachments(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := s.ticketID(r, sc)
	if err != nil {
		return err
	}
	out, err := s.opts.Attachments.FindTicketAttachments(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.Attachment]{Items: out, Total: len(out)})
	return nil
}

// getTicketAttachment sends the file as a download with the type found
// in its content. The headers keep a browser from treating it as
// anything else: never sniffed, never shown inline, and a PDF opened
// anyway runs sandboxed (no scripts, no forms, no same-origin access).
func (s *Server) getTicketAttachment(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := s.ticketID(r, sc)
	if err != nil {
		return err
	}
	aid, err := pathID(r, "aid")
	if err != nil {
		return err
	}
	a, data, err := s.opts.Attachments.OpenTicketAttachment(r.Context(), sc, id, aid)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", a.MediaType)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.FileName}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("ETag", `"`+a.SHA256+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
	return nil
}
