package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/httpmeta"
)

// engine holds one template per view, each with the common layout.
type engine struct {
	views  map[string]*template.Template
	assets map[string]asset
}

// asset is an embedded static file, served with a long cache lifetime
// under a URL that changes with its content.
type asset struct {
	body    []byte
	version string
	ctype   string
}

func mustEngine() *engine {
	e := &engine{views: map[string]*template.Template{}, assets: map[string]asset{}}
	common, err := fs.Glob(files, "templates/common/*.html")
	if err != nil || len(common) == 0 {
		panic("web: no layout templates")
	}
	views, _ := fs.Glob(files, "templates/views/*.html")
	for _, v := range views {
		name := strings.TrimSuffix(path.Base(v), ".html")
		e.views[name] = template.Must(template.New(name).ParseFS(files, append(append([]string{}, common...), v)...))
	}
	statics, _ := fs.Glob(files, "static/*.*")
	for _, f := range statics {
		b, _ := files.ReadFile(f)
		e.addAsset(path.Base(f), b)
	}
	// The style sheet and the script are each one file for the browser,
	// kept as several in the source (static/css/*.css, static/js/*.js in
	// name order), so that each part of the site keeps its own.
	for _, bundle := range []struct{ name, glob string }{{"app.css", "static/css/*.css"}, {"app.js", "static/js/*.js"}} {
		parts, _ := fs.Glob(files, bundle.glob)
		var all []byte
		for _, f := range parts {
			b, _ := files.ReadFile(f)
			all = append(append(all, b...), '\n')
		}
		e.addAsset(bundle.name, all)
	}
	return e
}

func (e *engine) addAsset(name string, body []byte) {
	sum := sha256.Sum256(body)
	e.assets[name] = asset{body: body, version: hex.EncodeToString(sum[:6]), ctype: mime.TypeByExtension(path.Ext(name))}
}

// assetURL is the URL of a static file, versioned by its content.
func (e *engine) assetURL(name string) string {
	return "/static/" + name + "?v=" + e.assets[name].version
}

func (s *server) static(w http.ResponseWriter, r *http.Request) {
	a, ok := s.views.assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(a.body)
}

// page is what the layout and every view see: the caller, the language
// and the view's own data (Data).
type page struct {
	*translator
	Title     string
	User      *cmdb.User
	Path      string // the page's own URL, for the language switch to come back to
	OtherLang string
	CSS, JS   string
	Icon      string
	Data      any
	// Owner is the hidden field of forms that keep a draft over a
	// sign-in: whose form it is, sealed (draft.go).
	Owner string
	scope cmdb.Scope // the caller's, for the console's navigation
}

// OtherLangName names the other language in itself.
func (p *page) OtherLangName() string {
	if p.OtherLang == cmdb.LangEN {
		return "English"
	}
	return "Deutsch"
}

// RoomCode is a room's code where its name does not say it already
// ("Lehrerzimmer" LZ, but "Raum 1.12" not again 1.12).
func (p *page) RoomCode(name, code string) string {
	if code == "" || strings.Contains(strings.ToLower(name), strings.ToLower(code)) {
		return ""
	}
	return code
}

// Status is the label of a ticket status in the page's language.
func (p *page) Status(status string) string { return p.T("status." + status) }

// render writes view with the layout; titleID is the catalogue id of
// the page title.
func (s *server) render(w http.ResponseWriter, r *http.Request, rq *request, status int, view, titleID string, data any) {
	t, ok := s.views.views[view]
	if !ok {
		panic("web: no view " + view)
	}
	other := cmdb.LangEN
	if rq.Lang == cmdb.LangEN {
		other = cmdb.LangDE
	}
	p := &page{translator: rq.tr, Title: rq.tr.T(titleID), User: rq.User, Path: httpmeta.LocalPath(r.URL.RequestURI()),
		OtherLang: other, CSS: s.views.assetURL("app.css"), JS: s.views.assetURL("app.js"),
		Icon: s.views.assetURL("icon.svg"), Data: data, scope: rq.Scope}
	if rq.User != nil {
		p.Owner = s.drafts.owner(rq.User.ID, s.now())
	}
	if r.Method != http.MethodGet {
		p.Path = httpmeta.LocalPath(r.URL.Path)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("web: render", "view", view, "err", err)
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", rq.Lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// setCookie sets a cookie for the whole site, never readable by script.
func setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
	if maxAge < 0 {
		c.MaxAge = -1
	} else if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(w, c)
}

func clearSessionCookie(w http.ResponseWriter) { setCookie(w, cmdb.SessionCookie, "", -1) }
