package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/schulit/cmdb/agentproto"
)

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("dial tcp: connection refused"), true},
		{&StatusError{Status: 500}, true},
		{&StatusError{Status: 503}, true},
		{fmt.Errorf("wrapped: %w", &StatusError{Status: 429}), true},
		{&StatusError{Status: 400}, false},
		{&StatusError{Status: 401}, false},
		{&StatusError{Status: 413}, false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestNonJSONAnswerIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>captive portal</html>")
	}))
	defer srv.Close()
	_, err := New(srv.URL, Options{}).Report(context.Background(), "cred-secret-1", agentproto.Report{DeviceID: "d", Seq: 1})
	if !Retryable(err) {
		t.Errorf("HTML answer: %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), "cred-secret-1") {
		t.Errorf("error shows the credential: %v", err)
	}
}
