// Package cmdb is the domain of the platform: tenants, configuration items,
// observations and the rules that turn observations into CI changes. It
// imports only the standard library; adapters (PostgreSQL, HTTP, SNMP, …)
// import it and never each other.
package cmdb

import (
	"errors"
	"fmt"
)

// Application error codes. Every error that reaches a user carries one of
// these; anything else is reported as EINTERNAL.
const (
	ECONFLICT       = "conflict"
	EINTERNAL       = "internal"
	EINVALID        = "invalid"
	ENOTFOUND       = "not_found"
	EUNAUTHORIZED   = "unauthorized"
	EFORBIDDEN      = "forbidden"
	ENOTIMPLEMENTED = "not_implemented"
	// ETOOLARGE: a request (body) larger than the limit its message names.
	ETOOLARGE = "too_large"
	// ERATELIMITED: too many requests from one client; try again later.
	ERATELIMITED = "rate_limited"
	// EUNAVAILABLE: the server cannot serve the request now (shutting
	// down, busy, its database unreachable); the same request may succeed
	// later.
	EUNAVAILABLE = "unavailable"
	// EMETHODNOTALLOWED: a known path asked with a method it does not serve.
	EMETHODNOTALLOWED = "method_not_allowed"
	// EUPSTREAM: a service the server depends on (a sign-in provider)
	// cannot be reached or answered wrongly.
	EUPSTREAM = "upstream_unavailable"
)

// Error is the application error. Field names the offending input field
// (JSON path such as "observations[3].macs[0]") when there is one.
type Error struct {
	Code    string
	Field   string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("cmdb error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("cmdb error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the field and the rule it broke.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, EINTERNAL for any
// other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human-readable message of an application error;
// other errors read "Internal error" so that no detail leaks to users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the field named by an application error, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// WithFieldPrefix returns err with prefix prepended to its field, so that
// a nested validator's "serial" becomes "observations[2].serial".
func WithFieldPrefix(err error, prefix string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	if c.Field == "" {
		c.Field = prefix
	} else if c.Field[0] == '[' {
		c.Field = prefix + c.Field
	} else {
		c.Field = prefix + "." + c.Field
	}
	return &c
}
