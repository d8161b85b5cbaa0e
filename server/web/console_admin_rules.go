package web

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// The stores name the field and the rule in English (the API's words).
// The administration says the common rules in the page's language; the
// others keep the store's words (rq.storeError).

// storeRules maps a store's message to the catalogue's words for it; the
// submatches fill {{.N}}.
var storeRules = []struct {
	re *regexp.Regexp
	id string
}{
	{regexp.MustCompile(`^is required`), "admin.rule.required"},
	{regexp.MustCompile(`^must be at most (\d+) characters$`), "admin.rule.max"},
	{regexp.MustCompile(`^at most (\d+) characters$`), "admin.rule.max"},
	{regexp.MustCompile(`^must be at least (\d+) characters$`), "admin.rule.min"},
	{regexp.MustCompile(`^may contain only letters, digits`), "admin.rule.code"},
	{regexp.MustCompile(`^must be valid UTF-8 text`), "admin.rule.text"},
	{regexp.MustCompile(`^must be an e-mail address`), "admin.rule.email"},
	{regexp.MustCompile(`^must use at least 5 different characters$`), "admin.rule.distinct"},
	{regexp.MustCompile(`^is a well-known password$`), "admin.rule.wellknown"},
	{regexp.MustCompile(`^must not contain the e-mail address$`), "admin.rule.noemail"},
	{regexp.MustCompile(`^is already taken in `), "admin.rule.taken"},
	{regexp.MustCompile(`^already exists$`), "admin.rule.taken"},
	{regexp.MustCompile(`^a user with this e-mail address already exists$`), "admin.rule.emailtaken"},
	{regexp.MustCompile(`^is required for SNMP`), "admin.rule.required"},
	{regexp.MustCompile(`^must be (\d+) to (\d+)`), "admin.rule.range"},
	{regexp.MustCompile(`^must be greater than 0 and at most 0\.5 `), "admin.rule.alpha"},
}

// ruleText says a store's invalid-input or conflict message in the
// page's language, if it is one of the common rules.
func ruleText(rq *request, err error) (field, msg string, ok bool) {
	var e *cmdb.Error
	if !errors.As(err, &e) || (e.Code != cmdb.EINVALID && e.Code != cmdb.ECONFLICT) {
		return "", "", false
	}
	if m := holdsRE.FindStringSubmatch(e.Message); m != nil {
		return e.Field, rq.tr.T("admin.rule.holds", "N", holdings(rq, m[1])), true
	}
	for _, r := range storeRules {
		if m := r.re.FindStringSubmatch(e.Message); m != nil {
			n, k := "", ""
			if len(m) > 1 {
				n = m[1]
			}
			if len(m) > 2 {
				k = m[2]
			}
			return e.Field, rq.tr.T(r.id, "N", n, "M", k), true
		}
	}
	return "", "", false
}

// holdsRE is the tenant store's refusal to delete what is not empty.
var holdsRE = regexp.MustCompile(`still holds (.+); move or delete them first`)

// holdings says "2 rooms, 1 CI" in the page's language, word by word
// where the catalogue has the word (admin.holds.<noun>).
func holdings(rq *request, list string) string {
	var out []string
	for _, part := range strings.Split(list, ", ") {
		n, noun, _ := strings.Cut(part, " ")
		count, err := strconv.Atoi(n)
		id := "admin.holds." + strings.ReplaceAll(strings.TrimSuffix(strings.ToLower(noun), "s"), " ", "_")
		if msg, ok := rq.tr.lookup(id, "Count", count); ok && err == nil {
			out = append(out, msg)
		} else {
			out = append(out, part)
		}
	}
	return strings.Join(out, ", ")
}
