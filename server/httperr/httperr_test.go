package httperr_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/httperr"
)

// TestWrite: every domain code answers its status in the API's shape; an
// error that is not the domain's says nothing of itself.
func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
		field  string
		msg    string
	}{
		{cmdb.Invalid("seq", "must be 1 or more"), 400, cmdb.EINVALID, "seq", "must be 1 or more"},
		{cmdb.Errorf(cmdb.EUNAUTHORIZED, "no"), 401, cmdb.EUNAUTHORIZED, "", "no"},
		{cmdb.Errorf(cmdb.EFORBIDDEN, "no"), 403, cmdb.EFORBIDDEN, "", "no"},
		{cmdb.Errorf(cmdb.ENOTFOUND, "no"), 404, cmdb.ENOTFOUND, "", "no"},
		{cmdb.Errorf(cmdb.EMETHODNOTALLOWED, "no"), 405, cmdb.EMETHODNOTALLOWED, "", "no"},
		{cmdb.Errorf(cmdb.ECONFLICT, "no"), 409, cmdb.ECONFLICT, "", "no"},
		{cmdb.Errorf(cmdb.ETOOLARGE, "at most 16384 bytes"), 413, cmdb.ETOOLARGE, "", "at most 16384 bytes"},
		{cmdb.Errorf(cmdb.ERATELIMITED, "no"), 429, cmdb.ERATELIMITED, "", "no"},
		{cmdb.Errorf(cmdb.ENOTIMPLEMENTED, "no"), 501, cmdb.ENOTIMPLEMENTED, "", "no"},
		{cmdb.Errorf(cmdb.EUPSTREAM, "no"), 502, cmdb.EUPSTREAM, "", "no"},
		{cmdb.Errorf(cmdb.EUNAVAILABLE, "no"), 503, cmdb.EUNAVAILABLE, "", "no"},
		{errors.New("pq: password authentication failed for user cmdb"), 500, cmdb.EINTERNAL, "", "Internal error."},
	} {
		rec := httptest.NewRecorder()
		httperr.Write(rec, tc.err)
		var b httperr.Body
		if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
			t.Fatalf("%v: body %q: %v", tc.err, rec.Body, err)
		}
		if rec.Code != tc.status || b.Error.Code != tc.code || b.Error.Field != tc.field || b.Error.Message != tc.msg ||
			rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%v: %d %+v, want %d %s %q %q", tc.err, rec.Code, b.Error, tc.status, tc.code, tc.field, tc.msg)
		}
	}
}
