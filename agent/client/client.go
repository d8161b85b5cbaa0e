// Package client speaks the agent protocol of cmdb over HTTP: enrolment
// and reports (see agentproto.EnrollRequest and agentproto.Report).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/schulit/cmdb/agent/report"
	"github.com/schulit/cmdb/agentproto"
)

// Paths of the agent API below the server URL.
const (
	EnrollPath = agentproto.EnrollPath
	ReportPath = agentproto.ReportPath
)

// Client talks to one cmdb server.
type Client struct {
	base      string
	http      *http.Client
	userAgent string
}

// Options configures a Client. Zero values take defaults.
type Options struct {
	// HTTP is the client to use; a client with a 60 s timeout when nil.
	HTTP *http.Client
	// UserAgent is sent with every request, "cmdb-agent" when empty.
	UserAgent string
}

// New returns a client for the server at baseURL (scheme and host, with
// an optional path prefix).
func New(baseURL string, o Options) *Client {
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	if o.UserAgent == "" {
		o.UserAgent = "cmdb-agent"
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), http: o.HTTP, userAgent: o.UserAgent}
}

// StatusError is a non-2xx answer from the server.
type StatusError struct {
	Op     string
	Status int
	// Message is the start of the response body, for the log.
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: server answered %d %s: %s", e.Op, e.Status, http.StatusText(e.Status), e.Message)
}

// Retryable reports whether a request that failed with err may succeed
// later unchanged: network errors, 5xx and 429 Too Many Requests. Any
// other 4xx means the server refuses this request for good.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests
	}
	return true
}

// Enroll trades an enrolment token for a device identity and
// credential. The token goes in the Authorization header, so that the
// server refuses a wrong one before it reads the body.
func (c *Client) Enroll(ctx context.Context, token agentproto.Secret, req agentproto.EnrollRequest) (agentproto.EnrollResponse, error) {
	const op = "client.Enroll"
	body, err := json.Marshal(req)
	if err != nil {
		return agentproto.EnrollResponse{}, fmt.Errorf("%s: %w", op, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+EnrollPath, bytes.NewReader(body))
	if err != nil {
		return agentproto.EnrollResponse{}, fmt.Errorf("%s: %w", op, err)
	}
	hreq.Header.Set("Authorization", "Bearer "+token.Reveal())
	hreq.Header.Set("Content-Type", "application/json")
	var resp agentproto.EnrollResponse
	if err := c.do(op, hreq, &resp); err != nil {
		return agentproto.EnrollResponse{}, err
	}
	if resp.DeviceID == "" || resp.Credential == "" {
		return agentproto.EnrollResponse{}, fmt.Errorf("%s: answer lacks device_id or credential", op)
	}
	return resp, nil
}

// Report sends r, gzip-compressed, authenticated with the device
// credential.
func (c *Client) Report(ctx context.Context, credential agentproto.Secret, r agentproto.Report) (agentproto.ReportResponse, error) {
	body, err := report.Encode(r)
	if err != nil {
		return agentproto.ReportResponse{}, err
	}
	return c.SendEncoded(ctx, credential, body)
}

// SendEncoded sends a report already encoded by report.Encode.
func (c *Client) SendEncoded(ctx context.Context, credential agentproto.Secret, body []byte) (agentproto.ReportResponse, error) {
	const op = "client.Report"
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+ReportPath, bytes.NewReader(body))
	if err != nil {
		return agentproto.ReportResponse{}, fmt.Errorf("%s: %w", op, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Content-Encoding", "gzip")
	hreq.Header.Set("Authorization", "Bearer "+credential.Reveal())
	var resp agentproto.ReportResponse
	if err := c.do(op, hreq, &resp); err != nil {
		return agentproto.ReportResponse{}, err
	}
	return resp, nil
}

func (c *Client) do(op string, req *http.Request, out any) error {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: reading answer: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return &StatusError{Op: op, Status: resp.StatusCode, Message: msg}
	}
	if err := json.Unmarshal(body, out); err != nil {
		// A proxy's HTML page on 200 is a server-side fault: retry later.
		return &StatusError{Op: op, Status: http.StatusBadGateway, Message: "answer is not JSON: " + err.Error()}
	}
	return nil
}
