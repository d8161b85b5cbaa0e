package web

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Drafts: a teacher who sends a form after her session ended (she typed
// a long description, the phone lay on the desk) is sent to sign in; what
// she typed must not be lost. The fields she sent (never a photo: it is
// too large to keep, and the form says so) are kept in a short-lived
// cookie, encrypted and authenticated with a key derived from the
// server's secret key, so that the browser holds them but cannot read or
// change them, and any replica can open them. The form they came from
// shows them again after sign-in, to the same person only; she sends it
// once more herself, with the form's own idempotency key, so one report
// makes one ticket.
//
// Which person typed it? The session is gone, so the form says it: every
// form that keeps drafts carries an "owner" field sealed for the person
// it was drawn for (ownerField). A draft without a valid owner is not
// kept; a draft is shown only to its owner and dropped for anyone else
// (a shared computer in the staff room). Cross-origin posts never get
// here: the cross-origin protection refuses them first.

const (
	draftCookie = "cmdb_draft"
	// draftLife is how long a draft waits for its owner to sign in.
	draftLife = 30 * time.Minute
	// ownerLife bounds how old a form may be for its draft to be kept:
	// longer than any session, so a form left open overnight still counts.
	ownerLife = 24 * time.Hour
	// maxDraftCookie keeps the cookie within what browsers and proxies
	// take for one cookie (4 KB, with its name and attributes).
	maxDraftCookie = 3800
	// ownerField names the hidden field that says whose form it is.
	ownerField = "owner"
)

// drafter seals owners and drafts.
type drafter struct{ aead cipher.AEAD }

// newDrafter derives the portal's own key from the server's secret key
// (nil: a random one, so drafts live as long as the process).
func newDrafter(secret []byte) *drafter {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		rand.Read(secret)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "cmdb portal drafts v1", 32)
	if err != nil {
		panic("web: draft key: " + err.Error())
	}
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	return &drafter{aead: aead}
}

// seal encrypts plain for purpose (the associated data: an owner token
// never opens as a draft, nor the other way).
func (d *drafter) seal(purpose string, plain []byte) string {
	nonce := make([]byte, d.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(d.aead.Seal(nonce, nonce, plain, []byte(purpose)))
}

func (d *drafter) open(purpose, sealed string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	n := d.aead.NonceSize()
	if err != nil || len(b) < n {
		return nil, false
	}
	plain, err := d.aead.Open(nil, b[:n], b[n:], []byte(purpose))
	return plain, err == nil
}

// owner is the owner field's value for a form drawn for user now.
func (d *drafter) owner(user int64, now time.Time) string {
	if d == nil || user == 0 {
		return ""
	}
	return d.seal("owner", []byte(strconv.FormatInt(user, 10)+" "+strconv.FormatInt(now.Unix(), 10)))
}

// ownerOf returns the user a form was drawn for; 0 when the field is
// missing, forged or too old.
func (d *drafter) ownerOf(token string, now time.Time) int64 {
	plain, ok := d.open("owner", token)
	if !ok {
		return 0
	}
	var user, at int64
	if _, err := fmt.Sscan(string(plain), &user, &at); err != nil {
		return 0
	}
	if issued := time.Unix(at, 0); now.Sub(issued) > ownerLife || issued.After(now.Add(time.Minute)) {
		return 0
	}
	return user
}

// draft is what a cookie keeps: whose it is, the form's page, the
// fields, whether a photo was dropped, and until when it counts.
type draft struct {
	User   int64      `json:"u"`
	Path   string     `json:"p"`
	Fields url.Values `json:"f"`
	Photo  bool       `json:"x,omitempty"`
	Until  int64      `json:"t"`
}

// keepDraft keeps what a signed-out POST carried, when its form says
// whose it is. It answers "kept", "toolong" (the fields do not fit in a
// cookie) or "" (nothing to keep).
func (s *server) keepDraft(w http.ResponseWriter, r *http.Request) string {
	fields, photo, ok := readDraftFields(r)
	if !ok {
		return ""
	}
	now := s.opts.Now()
	user := s.drafts.ownerOf(fields.Get(ownerField), now)
	if user == 0 {
		return ""
	}
	fields.Del(ownerField)
	plain, _ := json.Marshal(draft{User: user, Path: r.URL.Path, Fields: fields, Photo: photo, Until: now.Add(draftLife).Unix()})
	var z bytes.Buffer
	zw, _ := flate.NewWriter(&z, flate.BestCompression)
	zw.Write(plain)
	zw.Close()
	value := s.drafts.seal("draft", z.Bytes())
	if len(value) > maxDraftCookie {
		return "toolong"
	}
	setCookie(w, draftCookie, value, draftLife)
	return "kept"
}

// readDraftFields reads a form's fields, multipart or plain, skipping
// any file (only whether one was chosen is noted).
func readDraftFields(r *http.Request) (fields url.Values, photo, ok bool) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		if err := r.ParseForm(); err != nil {
			return nil, false, false
		}
		return r.PostForm, false, true
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, false, false
	}
	fields = url.Values{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return fields, photo, true
		}
		if err != nil {
			return nil, false, false
		}
		if p.FileName() != "" {
			photo = true
			continue // NextPart reads the file away
		}
		if p.FormName() == "" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, maxField))
		if err != nil {
			return nil, false, false
		}
		fields.Add(p.FormName(), string(b))
	}
}

// takeDraft returns the draft kept for this page and this person (nil:
// none) and forgets it. A draft of someone else is dropped unseen.
func (s *server) takeDraft(w http.ResponseWriter, r *http.Request, rq *request) *draft {
	c, err := r.Cookie(draftCookie)
	if err != nil || c.Value == "" || rq.User == nil {
		return nil
	}
	var d draft
	z, ok := s.drafts.open("draft", c.Value)
	if ok {
		plain, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(z)), 1<<20))
		ok = err == nil && json.Unmarshal(plain, &d) == nil
	}
	switch {
	case !ok || d.User != rq.User.ID || s.opts.Now().Unix() > d.Until:
		setCookie(w, draftCookie, "", -1)
		return nil
	case d.Path != r.URL.Path:
		return nil // for another page: it waits there (until it runs out)
	}
	setCookie(w, draftCookie, "", -1)
	return &d
}

// draftNotice is what a page with a restored form says above it.
type draftNotice struct {
	Photo bool // a photo had been chosen and is not kept
}

// now is the server's clock (the views' tests make servers without one).
func (s *server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// restoreReport fills a report form with its draft, if one waits.
func (s *server) restoreReport(w http.ResponseWriter, r *http.Request, rq *request, v *reportView) {
	d := s.takeDraft(w, r, rq)
	if d == nil {
		return
	}
	f := d.Fields
	v.Form.Description = f.Get("description")
	v.Form.CategoryID, _ = strconv.ParseInt(f.Get("category"), 10, 64)
	v.Form.Urgency, _ = strconv.Atoi(f.Get("urgency"))
	if k := f.Get("key"); k != "" {
		v.Form.Key = k // the same key: the report is opened once
	}
	v.Restored = &draftNotice{Photo: d.Photo}
}

// restoreComment fills the ticket page's comment with its draft.
func (s *server) restoreComment(w http.ResponseWriter, r *http.Request, rq *request, v *ticketView) {
	if d := s.takeDraft(w, r, rq); d != nil && d.Fields.Get("action") == "comment" {
		v.Comment = d.Fields.Get("body")
		v.Restored = &draftNotice{}
	}
}
