package agentdoor

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/schulit/cmdb/agentproto"
	"github.com/schulit/cmdb/server/cmdb"
	"golang.org/x/sync/semaphore"
)

// DefaultMaxInflight bounds the bytes of request bodies being read and
// decoded at once, by default: 64 full reports, or thousands of
// heartbeats.
const DefaultMaxInflight = 64 << 20

// errBusy answers a request that would take the door over its memory cap.
var errBusy = cmdb.Errorf(cmdb.EUNAVAILABLE, "The server is busy with other agents' requests; try again in a few seconds.")

var gzipReaders sync.Pool

// budget is the memory of bodies in flight: every byte read (after
// unpacking) is charged before it is handed on, and refunded when the
// request is done, so that many requests at once cannot take more than
// the cap together, whatever each declares.
type budget struct{ sem *semaphore.Weighted }

// body reads one request's body, unpacked, at most limit bytes, charging
// what it reads to the budget.
type body struct {
	r       io.Reader
	limit   int64
	read    int64
	charged int64
	budget  *budget
	zr      *gzip.Reader
	err     error // the first error, sticky
}

// chunk is how much budget a body takes at once, so that a small body
// costs one semaphore call.
const chunk = 32 << 10

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	// Reads of at most a chunk, each charged before it is made: what a
	// request holds is what it has read, rounded up to a chunk.
	if rest := min(b.limit+1-b.read, chunk); int64(len(p)) > rest {
		p = p[:rest]
	}
	if need := b.read + int64(len(p)) - b.charged; need > 0 {
		n := max(need, min(chunk, b.limit+1-b.charged))
		if !b.budget.sem.TryAcquire(n) {
			b.err = errBusy
			return 0, b.err
		}
		b.charged += n
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	if b.read > b.limit {
		b.err = cmdb.Errorf(cmdb.ETOOLARGE, "The body must unpack to at most %d bytes.", b.limit)
		return 0, b.err
	}
	if err != nil && err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = cmdb.Errorf(cmdb.ETOOLARGE, "The body must be at most %d bytes on the wire.", mbe.Limit)
		} else if b.zr != nil {
			err = cmdb.Invalid("body", "is not valid gzip")
		} else {
			// The client went away or sent a broken body: its fault.
			err = cmdb.Invalid("body", "could not be read to its end")
		}
		b.err = err
	}
	return n, err
}

// close refunds the budget and returns the gzip reader to its pool.
func (b *body) close() {
	if b.charged > 0 {
		b.budget.sem.Release(b.charged)
		b.charged = 0
	}
	if b.zr != nil {
		gzipReaders.Put(b.zr)
		b.zr = nil
	}
}

// open starts reading r's body, gunzipping it when it says so. Call
// close when done with what was decoded.
func (bu *budget) open(w http.ResponseWriter, r *http.Request, limit int64) (*body, error) {
	// gzip adds a few bytes per 32 KiB block to incompressible data.
	wire := http.MaxBytesReader(w, r.Body, limit+limit/64+1024)
	b := &body{r: wire, limit: limit, budget: bu}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		// A gzip reader holds tens of kilobytes of state: reuse them.
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(wire)
		} else {
			err = zr.Reset(wire)
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, cmdb.Errorf(cmdb.ETOOLARGE, "The body must be at most %d bytes on the wire.", mbe.Limit)
			}
			return nil, cmdb.Invalid("body", "is not valid gzip")
		}
		zr.Multistream(false)
		b.r, b.zr = zr, zr
	default:
		return nil, cmdb.Invalid("Content-Encoding", "must be gzip or none, not %q", enc)
	}
	return b, nil
}

// decode reads one JSON value from the body, streaming (no copy of the
// whole unpacked body besides the decoder's), refusing unknown fields and
// trailing data, naming bad fields.
func (b *body) decode(v any) error {
	dec := json.NewDecoder(b)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(b.err, err, "")
	}
	if _, err := dec.Token(); err != io.EOF {
		if b.err != nil {
			return b.err
		}
		return cmdb.Invalid("body", "must hold exactly one JSON value")
	}
	return nil
}

// decodeSection decodes a section's JSON strictly, its fields named
// below prefix.
func decodeSection(data json.RawMessage, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(nil, err, prefix)
	}
	return nil
}

// jsonError names what is wrong with a JSON body: the reader's own error
// (too large, busy, not gzip) first, else the field.
func jsonError(readErr, err error, prefix string) error {
	if readErr != nil {
		return readErr
	}
	var ce *cmdb.Error
	if errors.As(err, &ce) {
		return ce
	}
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		field := strings.TrimPrefix(prefix+"."+typ.Field, ".")
		if field == "" {
			field = "body"
		}
		return cmdb.Invalid(field, "has the wrong JSON type or is out of range (%s)", typ.Value)
	case errors.As(err, &syn):
		return cmdb.Invalid(orBody(prefix), "is malformed JSON at byte %d", syn.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return cmdb.Invalid(orBody(prefix), "is empty or cut short")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return cmdb.Invalid(strings.TrimPrefix(prefix+"."+name, "."), "is not a known field")
	}
	return cmdb.Invalid(orBody(prefix), "is malformed JSON")
}

func orBody(prefix string) string {
	if prefix == "" {
		return "body"
	}
	return prefix
}

// limits of the two doors, unpacked.
const (
	enrollLimit = agentproto.MaxEnrollBytes
	reportLimit = agentproto.MaxReportBytes
)
