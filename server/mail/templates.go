package mail

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// Notification kinds, each a template per language in templates/<lang>/<kind>.tmpl
// defining "subject" and "text".
const (
	KindTicketCreated = cmdb.NotifyTicketCreated
	KindStatusChanged = cmdb.NotifyStatusChanged
	KindPublicComment = cmdb.NotifyPublicComment
	KindSLAWarning    = cmdb.NotifySLAWarning
)

// Kinds lists the notification kinds.
var Kinds = []string{KindTicketCreated, KindStatusChanged, KindPublicComment, KindSLAWarning}

// Data is what a notification template shows.
type Data struct {
	TicketNumber string
	Title        string
	// Status and OldStatus are ticket status keys (new, assigned,
	// in_progress, waiting, resolved, closed); templates show them in the
	// recipient's language, unknown keys as given.
	Status    string
	OldStatus string
	Author    string // who commented
	Comment   string
	URL       string
	Due       time.Time // SLA warning: the due time
	Target    string    // SLA warning: which target, e.g. "Lösung"
	// Location of the times shown; nil means Europe/Berlin (UTC if the
	// zone database is missing).
	Location *time.Location
}

//go:embed templates/*/*.tmpl
var templateFS embed.FS

var statusNames = map[string]map[string]string{
	cmdb.LangDE: {"new": "Neu", "assigned": "Zugewiesen", "in_progress": "In Bearbeitung",
		"waiting": "Wartend", "resolved": "Gelöst", "closed": "Geschlossen"},
	cmdb.LangEN: {"new": "New", "assigned": "Assigned", "in_progress": "In progress",
		"waiting": "Waiting", "resolved": "Resolved", "closed": "Closed"},
}

var dueLayouts = map[string]string{
	cmdb.LangDE: "02.01.2006 15:04 Uhr",
	cmdb.LangEN: "2 Jan 2006 15:04 MST",
}

// catalogue maps language and kind to its parsed template.
var catalogue = func() map[string]map[string]*template.Template {
	out := map[string]map[string]*template.Template{}
	for _, lang := range []string{cmdb.LangDE, cmdb.LangEN} {
		out[lang] = map[string]*template.Template{}
		for _, kind := range Kinds {
			name := "templates/" + lang + "/" + kind + ".tmpl"
			if _, err := templateFS.Open(name); err != nil {
				continue
			}
			out[lang][kind] = template.Must(template.New(kind).Funcs(funcs(lang, nil)).ParseFS(templateFS, name))
		}
	}
	return out
}()

func funcs(lang string, loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"status": func(s string) string {
			if n, ok := statusNames[lang][s]; ok {
				return n
			}
			return s
		},
		"due": func(t time.Time) string { return t.In(loc).Format(dueLayouts[lang]) },
	}
}

var berlin = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return l
	}
	return time.UTC
}()

// Render returns subject and text of a notification kind in lang,
// falling back to German for an unknown language or a kind missing in
// it. Line breaks in the subject become spaces (a title may hold them).
// The language actually used is returned too.
func Render(kind, lang string, d Data) (subject, text, used string, err error) {
	used = lang
	t := catalogue[lang][kind]
	if t == nil {
		used = cmdb.LangDE
		t = catalogue[used][kind]
	}
	if t == nil {
		return "", "", "", cmdb.Invalid("kind", "Unknown notification kind %q.", kind)
	}
	loc := d.Location
	if loc == nil {
		loc = berlin
	}
	t, err = t.Clone()
	if err != nil {
		return "", "", "", err
	}
	t.Funcs(funcs(used, loc))
	var sb, tb bytes.Buffer
	if err := t.ExecuteTemplate(&sb, "subject", d); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s/%s subject: %w", used, kind, err)
	}
	if err := t.ExecuteTemplate(&tb, "text", d); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s/%s text: %w", used, kind, err)
	}
	subject = strings.Join(strings.Fields(sb.String()), " ")
	return subject, tb.String(), used, nil
}

// Compose renders a notification and returns it as an outbox message for
// the recipients (all of one language), ready for Outbox.EnqueueMail.
// dedupeKey identifies the event and recipient set, e.g.
// "ticket:42:comment:7:lang:de".
func Compose(kind, lang string, d Data, to []string, dedupeKey string) (*cmdb.OutboundMail, error) {
	subject, text, used, err := Render(kind, lang, d)
	if err != nil {
		return nil, err
	}
	m := &cmdb.OutboundMail{
		DedupeKey: dedupeKey, To: to, Subject: subject, Text: text, Language: used,
		Headers: map[string]string{"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}
