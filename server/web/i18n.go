package web

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/schulit/cmdb/server/cmdb"
	"golang.org/x/text/language"
)

// Languages the portal speaks, the default first.
var languages = []language.Tag{language.German, language.English}

var matcher = language.NewMatcher(languages)

// berlin is the time zone dates are shown in: the schools are German.
var berlin = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return l
	}
	return time.UTC
}()

// catalogue holds the message files (locales/<part>.<lang>.json: one file per
// part of the site, so that the portal and the console keep their own),
// German the default and the fallback for a message missing in English.
// A message id in two files of one language is a mistake and stops the
// start.
type catalogue struct {
	bundle *i18n.Bundle
	ids    map[string]map[string]bool // lang → message ids, for lookup and the tests
}

func mustCatalogue() *catalogue {
	b := i18n.NewBundle(language.German)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	c := &catalogue{bundle: b, ids: map[string]map[string]bool{}}
	for _, tag := range languages {
		lang := tag.String()
		names, _ := fs.Glob(files, "locales/*."+lang+".json")
		if len(names) == 0 {
			panic("web: no message files for " + lang)
		}
		c.ids[lang] = map[string]bool{}
		for _, name := range names {
			mf, err := b.LoadMessageFileFS(files, name)
			if err != nil {
				panic("web: message file " + name + ": " + err.Error())
			}
			for _, m := range mf.Messages {
				if c.ids[lang][m.ID] {
					panic("web: message " + m.ID + " is in two files of " + lang + "; " + name + " is one")
				}
				c.ids[lang][m.ID] = true
			}
		}
	}
	return c
}

// messageIDs returns the ids of a language's messages.
func (c *catalogue) messageIDs(lang string) map[string]bool { return c.ids[lang] }

// translator speaks one language.
type translator struct {
	lang string
	loc  *i18n.Localizer
	has  map[string]bool
}

func (c *catalogue) translator(lang string) *translator {
	return &translator{lang: lang, loc: i18n.NewLocalizer(c.bundle, lang), has: c.ids[lang]}
}

// T returns message id filled with the key/value pairs kv; a "Count"
// pair chooses the plural form. A missing message shows its id, so that
// it is seen (and the catalogue test fails).
func (t *translator) T(id string, kv ...any) string {
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(kv) > 0 {
		data := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			data[k] = kv[i+1]
			if k == "Count" {
				cfg.PluralCount = kv[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := t.loc.Localize(cfg)
	if err != nil && s == "" {
		return id
	}
	return s
}

// lookup returns message id when the catalogue has it (in this language
// or German).
func (t *translator) lookup(id string, kv ...any) (string, bool) {
	if _, err := t.loc.Localize(&i18n.LocalizeConfig{MessageID: id}); err != nil {
		return "", false
	}
	return t.T(id, kv...), true
}

// Date formats a day as the language writes it (dd.mm.yyyy in German).
func (t *translator) Date(at time.Time) string {
	return at.In(berlin).Format(t.T("format.date"))
}

// DateTime formats a moment as the language writes it.
func (t *translator) DateTime(at time.Time) string {
	return at.In(berlin).Format(t.T("format.datetime"))
}

// requestLang chooses the language: the signed-in user's setting, else
// the language the visitor chose (cookie), else the browser's.
func (s *server) requestLang(r *http.Request, u *cmdb.User) string {
	if u != nil && (u.Language == cmdb.LangDE || u.Language == cmdb.LangEN) {
		return u.Language
	}
	cookie := ""
	if c, err := r.Cookie(langCookie); err == nil {
		cookie = c.Value
	}
	tag, _ := language.MatchStrings(matcher, cookie, r.Header.Get("Accept-Language"))
	base, _ := tag.Base()
	if base.String() == "en" {
		return cmdb.LangEN
	}
	return cmdb.LangDE
}

// supportedLang reports whether the portal speaks lang.
func supportedLang(lang string) bool { return lang == cmdb.LangDE || lang == cmdb.LangEN }

// localeFiles lists the message files, for the tests.
func localeFiles() ([]string, error) { return fs.Glob(files, "locales/*.json") }
