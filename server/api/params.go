package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/schulit/cmdb/server/cmdb"
)

// validText reports whether s may reach a handler (and PostgreSQL, which
// refuses both): valid UTF-8 without NUL bytes.
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// checkParams answers 400 naming the parameter when a query or path value
// holds a NUL byte or invalid UTF-8, before any route's handler runs; path
// values are named by the wildcard of the route mux matches.
func checkParams(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if field := badParam(mux, r); field != "" {
			var body ErrorBody
			body.Error.Code, body.Error.Field, body.Error.Message = cmdb.EINVALID, field, "must be valid UTF-8 without NUL bytes"
			writeJSON(w, http.StatusBadRequest, body)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// badParam returns the name of the first query or path parameter that is
// not valid text, or "".
func badParam(mux *http.ServeMux, r *http.Request) string {
	for key, vals := range r.URL.Query() {
		if !validText(key) {
			return "query"
		}
		for _, v := range vals {
			if !validText(v) {
				return key
			}
		}
	}
	if validText(r.URL.Path) {
		return ""
	}
	// Name the path segment by the wildcard of the matching pattern.
	_, pattern := mux.Handler(r)
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		pattern = pattern[i:]
	}
	pat, segs := strings.Split(pattern, "/"), strings.Split(r.URL.Path, "/")
	for i, seg := range segs {
		if validText(seg) {
			continue
		}
		if i < len(pat) && strings.HasPrefix(pat[i], "{") {
			return strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(pat[i], "{"), "}"), "...")
		}
		return "path"
	}
	return "path"
}
