package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// reportInput is a report form as sent: the fields, the photo (nil: none)
// and the message ids of what was wrong with the photo.
type reportInput struct {
	form      reportForm
	photo     []byte
	photoName string
	errors    map[string]string // field → message id (filled with Max)
}

// maxField bounds one text field of the report form; the description is
// at most 20,000 characters, up to 4 bytes each.
const maxField = 80 << 10

// readReport reads the report form, multipart (with a photo) or plain.
// The multipart body is read part by part, so that a photo that is too
// large is refused without losing what was typed before it (the photo is
// the form's last field) and without reading more than the limit.
func (s *server) readReport(w http.ResponseWriter, r *http.Request) (*reportInput, error) {
	in := &reportInput{errors: map[string]string{}}
	set := func(name, value string) {
		switch name {
		case "key":
			in.form.Key = value
		case "category":
			in.form.CategoryID, _ = strconv.ParseInt(value, 10, 64)
		case "description":
			in.form.Description = value
		case "urgency":
			in.form.Urgency, _ = strconv.Atoi(value)
		}
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		if err := r.ParseForm(); err != nil {
			return nil, cmdb.Invalid("form", "cannot be read: %v", err)
		}
		for _, k := range []string{"key", "category", "description", "urgency"} {
			set(k, r.PostFormValue(k))
		}
		return in, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, cmdb.Invalid("form", "cannot be read: %v", err)
	}
	limit := s.attachmentLimits().MaxFileSize
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, cmdb.Invalid("form", "cannot be read: %v", err)
		}
		if p.FormName() != "photo" {
			b, err := io.ReadAll(io.LimitReader(p, maxField))
			if err != nil {
				return nil, cmdb.Invalid("form", "cannot be read: %v", err)
			}
			set(p.FormName(), string(b))
			continue
		}
		if p.FileName() == "" { // no photo chosen
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, limit+1))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig) || int64(len(b)) > limit:
			in.errors["photo"] = "report.photo.too_large"
			// Nothing after the photo is needed; the rest is read away
			// (the body's limit bounds it), so that the browser, still
			// sending, gets the answer rather than a reset connection.
			io.Copy(io.Discard, r.Body)
			return in, nil
		case err != nil:
			return nil, cmdb.Invalid("form", "cannot be read: %v", err)
		case len(b) == 0:
			continue
		}
		// Only photos: the attachment store takes PDFs too, the portal's
		// field asks for a picture. The type is judged by the content.
		if mt, err := cmdb.DetectAttachmentType(b); err != nil || !strings.HasPrefix(mt, "image/") {
			in.errors["photo"] = "report.photo.not_image"
			continue
		}
		in.photo, in.photoName = b, p.FileName()
	}
	return in, nil
}
