package postgres_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"strings"
	"sync"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

// photo is a real small PNG, padded to size bytes when size is larger
// (readers ignore what follows IEND; the type is judged by the start).
func photo(tb testing.TB, size int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{0, 120, 200, 255})
	var b bytes.Buffer
	must(tb, png.Encode(&b, img))
	if size > b.Len() {
		b.Write(make([]byte, size-b.Len()))
	}
	return b.Bytes()
}

const scanPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

func zipFile(tb testing.TB) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, _ := w.Create("rechnung.docx")
	f.Write([]byte("kein Foto"))
	must(tb, w.Close())
	return b.Bytes()
}

func (x *ticketEnv) attach(t *testing.T, s cmdb.Scope, a *cmdb.Attachment, data []byte) *cmdb.Attachment {
	t.Helper()
	must(t, x.db.AddTicketAttachment(context.Background(), s, a, data))
	return a
}

func (x *ticketEnv) attachments(t *testing.T, s cmdb.Scope, ticket int64) []*cmdb.Attachment {
	t.Helper()
	as, err := x.db.FindTicketAttachments(context.Background(), s, ticket)
	must(t, err)
	return as
}

// TestTicketAttachments: photos and PDFs are kept with the type their
// content shows; who sees a ticket sees its attachments, teachers never
// the internal ones, and nobody outside the scope learns they exist.
func TestTicketAttachments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "ATT")
	tk := x.open(t, x.teacher, "Drucker zeigt Fehler E-302", x.printer)

	img := photo(t, 0)
	pub := x.attach(t, x.teacher, &cmdb.Attachment{TicketID: tk.ID, FileName: "IMG_0042.HEIC", Channel: cmdb.ChannelPortal}, img)
	sum := sha256.Sum256(img)
	if pub.ID == 0 || pub.MediaType != cmdb.MediaPNG || pub.FileName != "IMG_0042.png" || pub.Size != int64(len(img)) ||
		pub.SHA256 != hex.EncodeToString(sum[:]) || pub.Internal || pub.AuthorUserID != x.teacher.UserID || pub.CreatedBy != x.teacher.Source() {
		t.Fatalf("teacher's photo: %+v", pub)
	}
	// An attachment of an internal comment is internal, though not asked for.
	note := &cmdb.TicketComment{TicketID: tk.ID, Body: "Fehlerprotokoll vom Gerät, für den Dienstleister.", Internal: true}
	must(t, x.db.AddTicketComment(ctx, x.authIT, note))
	internal := x.attach(t, x.authIT, &cmdb.Attachment{TicketID: tk.ID, CommentID: note.ID, FileName: "protokoll.pdf"}, []byte(scanPDF))
	if !internal.Internal || internal.MediaType != cmdb.MediaPDF || internal.CommentID != note.ID {
		t.Fatalf("attachment of an internal comment: %+v", internal)
	}

	// Teachers: no internal attachment, not on an internal comment, and
	// never see the internal one (list, download, history).
	if err := x.db.AddTicketAttachment(ctx, x.teacher, &cmdb.Attachment{TicketID: tk.ID, Internal: true, FileName: "a.png"}, img); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN ||
		cmdb.ErrorField(err) != "internal" {
		t.Errorf("teacher adds an internal attachment: %v", err)
	}
	if err := x.db.AddTicketAttachment(ctx, x.teacher, &cmdb.Attachment{TicketID: tk.ID, CommentID: note.ID}, img); cmdb.ErrorCode(err) != cmdb.EINVALID ||
		cmdb.ErrorField(err) != "comment_id" {
		t.Errorf("teacher attaches to an internal comment: %v", err)
	}
	for name, s := range map[string]cmdb.Scope{"teacher": x.teacher, "colleague": x.teacher2} {
		if as := x.attachments(t, s, tk.ID); len(as) != 1 || as[0].ID != pub.ID {
			t.Errorf("%s sees %d attachments, want only the public one", name, len(as))
		}
		if _, _, err := x.db.OpenTicketAttachment(ctx, s, tk.ID, internal.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s opens the internal attachment: %v", name, err)
		}
	}
	if as := x.attachments(t, x.authIT, tk.ID); len(as) != 2 {
		t.Errorf("authority IT sees %d attachments, want 2", len(as))
	}
	hist := func(s cmdb.Scope) (fields []string) {
		hs, err := x.db.FindTicketHistory(ctx, s, tk.ID)
		must(t, err)
		for _, h := range hs {
			if strings.HasSuffix(h.Field, "attachment") {
				fields = append(fields, h.Field+" "+h.New)
			}
		}
		return fields
	}
	if got := hist(x.teacher); len(got) != 1 || !strings.HasPrefix(got[0], "attachment ") || !strings.HasSuffix(got[0], "IMG_0042.png") {
		t.Errorf("teacher's history of attachments: %q", got)
	}
	if got := hist(x.authIT); len(got) != 2 || !strings.HasPrefix(got[1], "internal_attachment ") {
		t.Errorf("authority IT's history of attachments: %q", got)
	}

	// The bytes come back as stored.
	a, data, err := x.db.OpenTicketAttachment(ctx, x.teacher, tk.ID, pub.ID)
	must(t, err)
	if !bytes.Equal(data, img) || a.MediaType != cmdb.MediaPNG || a.FileName != pub.FileName {
		t.Errorf("opened %+v with %d bytes", a, len(data))
	}
	// An attachment is reached only through its own ticket.
	other := x.open(t, x.authIT, "Zweites Ticket", x.printer)
	if _, _, err := x.db.OpenTicketAttachment(ctx, x.authIT, other.ID, pub.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("attachment through another ticket: %v", err)
	}
	if err := x.db.AddTicketAttachment(ctx, x.authIT, &cmdb.Attachment{TicketID: other.ID, CommentID: note.ID}, img); cmdb.ErrorField(err) != "comment_id" {
		t.Errorf("comment of another ticket: %v", err)
	}

	// Outside the scope: the other school's IT, another tenant, a provider
	// the ticket is not assigned to — as if there were no ticket.
	for name, s := range map[string]cmdb.Scope{
		"school IT of the other school": x.schoolIT2,
		"other tenant":                  {Subject: "user:99", UserID: 99, Authorities: []int64{x.tn.Authority.ID + 1000}},
		"unassigned provider":           x.providerIT,
		"teacher of another school":     {Subject: x.teacher.Subject, UserID: 99, ReadSchools: []int64{x.tn.School2.ID}},
	} {
		if _, err := x.db.FindTicketAttachments(ctx, s, tk.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s lists: %v", name, err)
		}
		if _, _, err := x.db.OpenTicketAttachment(ctx, s, tk.ID, pub.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s opens: %v", name, err)
		}
		if err := x.db.AddTicketAttachment(ctx, s, &cmdb.Attachment{TicketID: tk.ID}, img); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			t.Errorf("%s adds: %v", name, err)
		}
	}

	// A zip called foto.jpg is refused by its content, and nothing is written.
	err = x.db.AddTicketAttachment(ctx, x.teacher, &cmdb.Attachment{TicketID: tk.ID, FileName: "foto.jpg"}, zipFile(t))
	if cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != "file" || !strings.Contains(cmdb.ErrorMessage(err), "ZIP") {
		t.Errorf("renamed zip: %v", err)
	}
	if as := x.attachments(t, x.authIT, tk.ID); len(as) != 2 {
		t.Errorf("%d attachments after the refused zip, want 2", len(as))
	}

	// A closed ticket takes no more files.
	ok(t)(x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusResolved)}))
	ok(t)(x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusClosed)}))
	if err := x.db.AddTicketAttachment(ctx, x.teacher, &cmdb.Attachment{TicketID: tk.ID}, img); cmdb.ErrorCode(err) != cmdb.ECONFLICT ||
		cmdb.ErrorField(err) != "status" {
		t.Errorf("attachment to a closed ticket: %v", err)
	}
}

// TestTicketAttachmentLimits: per file, per ticket in bytes and in
// number, and the per-ticket limit holds for uploads in parallel.
func TestTicketAttachmentLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "LIM")
	tk := x.open(t, x.teacher, "Fotos vom Fehlerbild", x.printer)
	add := func(tk *cmdb.Ticket, size int) error {
		return x.db.AddTicketAttachment(ctx, x.teacher, &cmdb.Attachment{TicketID: tk.ID, FileName: "foto.png"}, photo(t, size))
	}
	const mib = 1 << 20
	if err := add(tk, 10*mib+1); cmdb.ErrorField(err) != "file" || !strings.Contains(cmdb.ErrorMessage(err), "at most 10 MiB") {
		t.Errorf("a file over 10 MiB: %v", err)
	}
	must(t, add(tk, 10*mib)) // exactly the limit is fine
	must(t, add(tk, 9*mib))
	if err := add(tk, 7*mib); cmdb.ErrorField(err) != "file" || !strings.Contains(cmdb.ErrorMessage(err), "at most 25 MiB together") {
		t.Errorf("over the ticket's 25 MiB: %v", err)
	}
	if as := x.attachments(t, x.teacher, tk.ID); len(as) != 2 {
		t.Errorf("%d attachments, want 2 (nothing of the refused one written)", len(as))
	}

	// Two uploads at once to a ticket that has room for one: one wins.
	par := x.open(t, x.teacher, "Parallel", x.printer)
	must(t, add(par, 9*mib))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = add(par, 9*mib) }()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Errorf("parallel uploads over the limit: %v, %v; want exactly one refused", errs[0], errs[1])
	}
	var total int64
	for _, a := range x.attachments(t, x.authIT, par.ID) {
		total += a.Size
	}
	if total > cmdb.DefaultMaxTicketAttachmentSize {
		t.Errorf("ticket holds %d bytes, over the limit", total)
	}

	// At most 20 files.
	many := x.open(t, x.teacher, "Viele Fotos", x.printer)
	for range cmdb.DefaultMaxTicketAttachments {
		must(t, add(many, 0))
	}
	if err := add(many, 0); cmdb.ErrorField(err) != "file" || !strings.Contains(cmdb.ErrorMessage(err), "at most 20 attachments") {
		t.Errorf("21st file: %v", err)
	}
}
