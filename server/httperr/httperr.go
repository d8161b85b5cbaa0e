// Package httperr is the one encoder of error answers over HTTP, for the
// API, the agent door and the sign-in flows: it maps the domain's error
// codes (cmdb.E*) to HTTP statuses and writes the JSON shape
//
//	{"error": {"code": "...", "field": "...", "message": "..."}}
//
// The domain keeps the codes; the statuses belong here, on the HTTP side.
package httperr

import (
	"encoding/json"
	"net/http"

	"github.com/schulit/cmdb/server/cmdb"
)

// Body is the JSON shape of every error answer. Field names the offending
// input (a JSON path or a parameter) when there is one.
type Body struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field,omitempty"`
		Message string `json:"message"`
	} `json:"error"`
}

// Status maps an error code to its HTTP status; unknown codes (and
// cmdb.EINTERNAL) are 500.
func Status(code string) int {
	switch code {
	case cmdb.ECONFLICT:
		return http.StatusConflict
	case cmdb.EINVALID:
		return http.StatusBadRequest
	case cmdb.ENOTFOUND:
		return http.StatusNotFound
	case cmdb.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case cmdb.EFORBIDDEN:
		return http.StatusForbidden
	case cmdb.ENOTIMPLEMENTED:
		return http.StatusNotImplemented
	case cmdb.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case cmdb.ERATELIMITED:
		return http.StatusTooManyRequests
	case cmdb.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case cmdb.EMETHODNOTALLOWED:
		return http.StatusMethodNotAllowed
	case cmdb.EUPSTREAM:
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// Write answers err with the status of its code. Errors that are not a
// *cmdb.Error answer 500 "Internal error." and say nothing more: the
// caller logs them. Headers such as Retry-After are the caller's to set
// before.
func Write(w http.ResponseWriter, err error) {
	WriteStatus(w, Status(cmdb.ErrorCode(err)), err)
}

// WriteStatus is Write with the status chosen by the caller, for the few
// answers whose status depends on where they are given (the agent door
// answers an internal error 503, as the agent then retries).
func WriteStatus(w http.ResponseWriter, status int, err error) {
	var b Body
	b.Error.Code, b.Error.Field, b.Error.Message = cmdb.ErrorCode(err), cmdb.ErrorField(err), cmdb.ErrorMessage(err)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(b)
}
