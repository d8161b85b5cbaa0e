package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/server/cmdb"
)

// Scraper is the I/O edge of the poller: one SNMP session with one
// device and one credential (after prometheus/snmp_exporter's
// scraper.SNMPScraper). NewScraper returns the gosnmp-backed one,
// FakeScraper a map-backed one for tests.
type Scraper interface {
	// Get reads scalar OIDs. OIDs the device does not have come back as
	// noSuchObject/noSuchInstance PDUs or not at all; that is not an
	// error. An error means no usable answer (timeout, refused, bad
	// credential, context cancelled).
	Get(oids []string) ([]gosnmp.SnmpPDU, error)
	// WalkAll reads the subtree under oid. A subtree the device lacks is
	// empty, not an error. On an error the PDUs read so far are returned
	// with it.
	WalkAll(oid string) ([]gosnmp.SnmpPDU, error)
	// Close ends the session.
	Close() error
}

// Options tune polling. The zero value is usable: every zero field takes
// the default named in its comment.
type Options struct {
	// Port is the UDP port of targets given without one (default 161).
	Port int
	// Timeout is how long one request waits for an answer (default 2s).
	Timeout time.Duration
	// Retries is how often a request is sent again after a timeout
	// (zero: never). A silent device costs Timeout × (Retries+1) per
	// credential.
	Retries int
	// ContextName is the SNMPv3 context name (snmpsim selects its data
	// file by it; some devices select a virtual agent).
	ContextName string
	// MaxRepetitions is the GETBULK size of walks (default 25). A
	// profile's tables are walked side by side, each request asking for
	// about 4 × MaxRepetitions values spread over the unfinished tables.
	MaxRepetitions uint32
	// MaxRows caps the PDUs one walk may return (default 10000).
	MaxRows int
	// Concurrency bounds the parallel polls of Discover (default 64).
	Concurrency int
	// Catalog holds vendors, class rules and profiles (default
	// DefaultCatalog()).
	Catalog *Catalog
	// Dial opens a Scraper; default NewScraper. Tests pass fakes here.
	Dial func(ctx context.Context, target string, cred cmdb.SNMPCredential, o Options) (Scraper, error)
	// Now stamps PolledAt (default time.Now).
	Now func() time.Time
	// Logger receives debug messages about failed credentials and walks;
	// nil discards them. Secrets are never passed to it.
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultPort           = 161
	DefaultTimeout        = 2 * time.Second
	DefaultMaxRepetitions = 25
	DefaultMaxRows        = 10000
	DefaultConcurrency    = 64
)

func (o Options) withDefaults() Options {
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.MaxRepetitions == 0 {
		o.MaxRepetitions = DefaultMaxRepetitions
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Catalog == nil {
		o.Catalog = DefaultCatalog()
	}
	if o.Dial == nil {
		o.Dial = NewScraper
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// SplitTarget parses a target: a host name or IP address with an
// optional port (host, host:port, [v6], [v6]:port or a bare IPv6
// address); defPort applies when there is none. Errors are EINVALID on
// the field "target".
func SplitTarget(target string, defPort int) (host string, port uint16, err error) {
	t := strings.TrimSpace(target)
	if t == "" {
		return "", 0, cmdb.Invalid("target", "is required: a host name or IP address, optionally with :port")
	}
	p := strconv.Itoa(defPort)
	if a, err := netip.ParseAddr(t); err == nil { // a bare address, IPv6 included
		host = a.String()
	} else if h, ps, err := net.SplitHostPort(t); err == nil {
		host, p = h, ps
	} else if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		host = t[1 : len(t)-1]
	} else {
		host = t
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", 0, cmdb.Invalid("target", "port %q must be a number from 1 to 65535", p)
	}
	if _, err := netip.ParseAddr(host); err != nil && !validHostname(host) {
		return "", 0, cmdb.Invalid("target", "%q is not a host name or IP address", host)
	}
	return host, uint16(n), nil
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// authProtocols and privProtocols map cmdb's protocol names to gosnmp's.
// AES192 and AES256 are the Blumenthal draft's key extension, as net-snmp
// implements them (gosnmp's AES192C/AES256C are Cisco's Reeder variant).
var (
	authProtocols = map[string]gosnmp.SnmpV3AuthProtocol{
		"SHA": gosnmp.SHA, "SHA224": gosnmp.SHA224, "SHA256": gosnmp.SHA256,
		"SHA384": gosnmp.SHA384, "SHA512": gosnmp.SHA512,
	}
	privProtocols = map[string]gosnmp.SnmpV3PrivProtocol{
		"AES": gosnmp.AES, "AES192": gosnmp.AES192, "AES256": gosnmp.AES256,
	}
)

// gosnmpParams returns a gosnmp session for a validated credential:
// version, community or USM user, and the v3 security level implied by
// which protocols are set (noAuthNoPriv, authNoPriv, authPriv).
func gosnmpParams(cred cmdb.SNMPCredential) (*gosnmp.GoSNMP, error) {
	g := &gosnmp.GoSNMP{}
	switch cred.Version {
	case "1":
		g.Version, g.Community = gosnmp.Version1, cred.Community.Reveal()
	case "2c":
		g.Version, g.Community = gosnmp.Version2c, cred.Community.Reveal()
	case "3":
		g.Version = gosnmp.Version3
		g.SecurityModel = gosnmp.UserSecurityModel
		usm := &gosnmp.UsmSecurityParameters{UserName: cred.User,
			AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
		g.MsgFlags = gosnmp.NoAuthNoPriv
		if cred.AuthProto != "" {
			ap, ok := authProtocols[cred.AuthProto]
			if !ok {
				return nil, cmdb.Invalid("auth_proto", "must be one of %v", cmdb.SNMPAuthProtocols)
			}
			usm.AuthenticationProtocol, usm.AuthenticationPassphrase = ap, cred.AuthPass.Reveal()
			g.MsgFlags = gosnmp.AuthNoPriv
		}
		if cred.PrivProto != "" {
			pp, ok := privProtocols[cred.PrivProto]
			if !ok {
				return nil, cmdb.Invalid("priv_proto", "must be one of %v", cmdb.SNMPPrivProtocols)
			}
			usm.PrivacyProtocol, usm.PrivacyPassphrase = pp, cred.PrivPass.Reveal()
			g.MsgFlags = gosnmp.AuthPriv
		}
		g.SecurityParameters = usm
	default:
		return nil, cmdb.Invalid("version", "must be one of 1, 2c, 3")
	}
	return g, nil
}

// NewScraper opens a gosnmp session to target (host[:port], see
// SplitTarget) with one credential. Each request waits o.Timeout and is
// retried o.Retries times; ctx cancels requests in flight. Bad input is
// EINVALID naming the field (target, version, community, user,
// auth_proto, priv_proto, …); nothing is sent before a request.
func NewScraper(ctx context.Context, target string, cred cmdb.SNMPCredential, o Options) (Scraper, error) {
	o = o.withDefaults()
	host, port, err := SplitTarget(target, o.Port)
	if err != nil {
		return nil, err
	}
	if err := cred.Validate(); err != nil {
		return nil, err
	}
	g, err := gosnmpParams(cred)
	if err != nil {
		return nil, err
	}
	g.Target, g.Port, g.Transport = host, port, "udp"
	g.Context = ctx
	g.Timeout, g.Retries = o.Timeout, o.Retries
	g.MaxOids = getChunk
	g.MaxRepetitions = o.MaxRepetitions
	g.ContextName = o.ContextName
	if err := g.Connect(); err != nil {
		return nil, fmt.Errorf("snmp.NewScraper %s: %w", target, err)
	}
	return &gosnmpScraper{g: g, maxRows: o.MaxRows, maxReps: o.MaxRepetitions}, nil
}

// getChunk is how many OIDs one GET asks for; small enough for any
// device's PDU size.
const getChunk = 20

type gosnmpScraper struct {
	g       *gosnmp.GoSNMP
	maxRows int
	maxReps uint32
}

// ErrTooManyRows is returned (with the rows read) by a walk that reached
// Options.MaxRows.
var ErrTooManyRows = errors.New("snmp: walk stopped at the row limit")

func (s *gosnmpScraper) Get(oids []string) ([]gosnmp.SnmpPDU, error) {
	var out []gosnmp.SnmpPDU
	for start := 0; start < len(oids); start += getChunk {
		pending := oids[start:min(start+getChunk, len(oids))]
		for len(pending) > 0 {
			pkt, err := s.g.Get(pending)
			if err != nil {
				return out, err
			}
			switch {
			case pkt.Error == gosnmp.NoError:
				out = append(out, pkt.Variables...)
				pending = nil
			case pkt.Error == gosnmp.NoSuchName && pkt.ErrorIndex >= 1 && int(pkt.ErrorIndex) <= len(pending):
				// SNMPv1 fails the whole request for one unknown OID:
				// drop that one and ask again.
				pending = append(pending[:pkt.ErrorIndex-1:pkt.ErrorIndex-1], pending[pkt.ErrorIndex:]...)
			case pkt.Error == gosnmp.TooBig && len(pending) > 1:
				// Ask one by one.
				for _, oid := range pending {
					p, err := s.Get([]string{oid})
					if err != nil {
						return out, err
					}
					out = append(out, p...)
				}
				pending = nil
			default:
				return out, fmt.Errorf("snmp get: the agent answered %v", pkt.Error)
			}
		}
	}
	return out, nil
}

func (s *gosnmpScraper) WalkAll(oid string) ([]gosnmp.SnmpPDU, error) {
	var out []gosnmp.SnmpPDU
	collect := func(p gosnmp.SnmpPDU) error {
		if len(out) >= s.maxRows {
			return ErrTooManyRows
		}
		out = append(out, p)
		return nil
	}
	var err error
	if s.g.Version == gosnmp.Version1 {
		err = s.g.Walk(oid, collect)
	} else {
		err = s.g.BulkWalk(oid, collect)
	}
	return out, err
}

// multiWalker is a Scraper that can walk several subtrees in fewer
// requests than one walk after the other.
type multiWalker interface {
	// WalkMany returns what WalkAll of each root would, in any order. On
	// an error it returns the PDUs read so far with it.
	WalkMany(roots []string) ([]gosnmp.SnmpPDU, error)
}

// walkColumn is the state of one subtree in WalkMany.
type walkColumn struct {
	root, prefix string // with a leading dot; prefix ends in a dot
	last         string // the last OID read, or root
	rows         int
	done         bool
}

// WalkMany walks the subtrees under roots side by side: each GETBULK
// asks for the next values of every unfinished subtree (at most getChunk
// of them), RFC 3416 answering them row by row, so that a printer's
// dozen short tables take two or three requests instead of one or more
// each. The repetitions per request shrink as subtrees are added, so that
// an answer holds about bulkBudgetFactor × MaxRepetitions values, and
// agents may truncate it: each subtree goes on from the last value it
// got. SNMPv1, which has no GETBULK, walks one subtree after the other;
// so do the rest of the subtrees when an agent answers with an error
// status or not at all (some embedded agents drop requests they find too
// large). Like gosnmp's walk, a root whose first answer lies outside it
// is then asked for with a GET (it may be a scalar's instance).
func (s *gosnmpScraper) WalkMany(roots []string) ([]gosnmp.SnmpPDU, error) {
	if s.g.Version == gosnmp.Version1 {
		return s.walkEach(roots)
	}
	cols := make([]*walkColumn, len(roots))
	for i, r := range roots {
		root := "." + strings.TrimPrefix(r, ".")
		cols[i] = &walkColumn{root: root, prefix: root + ".", last: root}
	}
	var out []gosnmp.SnmpPDU
	var errs []error
	var leaves []string
	budget := int(s.maxReps) * bulkBudgetFactor
	for active := cols; len(active) > 0; active = slices.DeleteFunc(active, func(c *walkColumn) bool { return c.done }) {
		batch := active[:min(len(active), getChunk)]
		reps := max(1, min(int(s.maxReps), budget/len(batch)))
		oids := make([]string, len(batch))
		for i, c := range batch {
			oids[i] = c.last
		}
		pkt, err := s.g.GetBulk(oids, 0, uint32(reps))
		if err != nil && s.g.Context != nil && s.g.Context.Err() != nil {
			return out, err
		}
		progress := false
		if err == nil && pkt.Error == gosnmp.NoError {
			for i, p := range pkt.Variables {
				c := batch[i%len(batch)]
				if c.done {
					continue
				}
				progress = true
				switch {
				case p.Type == gosnmp.EndOfMibView || p.Type == gosnmp.NoSuchObject || p.Type == gosnmp.NoSuchInstance:
					c.done = true
				case !strings.HasPrefix(p.Name, c.prefix):
					c.done = true
					if c.rows == 0 {
						leaves = append(leaves, c.root)
					}
				case compareOID(normOID(p.Name), normOID(c.last)) <= 0:
					c.done = true
					errs = append(errs, fmt.Errorf("snmp walk %s: OID not increasing: %s after %s", c.root, p.Name, c.last))
				case c.rows >= s.maxRows:
					c.done = true
					errs = append(errs, fmt.Errorf("snmp walk %s: %w", c.root, ErrTooManyRows))
				default:
					out = append(out, p)
					c.last = p.Name
					c.rows++
				}
			}
		}
		if !progress {
			// No answer, an error status or an empty one: walk the rest
			// one subtree at a time, each from where it stands.
			for _, c := range active {
				got, err := s.WalkAll(c.root)
				for _, p := range got {
					if compareOID(normOID(p.Name), normOID(c.last)) > 0 {
						out = append(out, p)
					}
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("snmp walk %s: %w", c.root, err))
					if s.g.Context != nil && s.g.Context.Err() != nil {
						return out, errors.Join(errs...)
					}
				}
				c.done = true
			}
		}
	}
	if len(leaves) > 0 {
		got, err := s.Get(leaves)
		for _, p := range got {
			switch p.Type {
			case gosnmp.EndOfMibView, gosnmp.NoSuchObject, gosnmp.NoSuchInstance:
			default:
				out = append(out, p)
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// bulkBudgetFactor × MaxRepetitions is about how many values one
// GETBULK of WalkMany asks for: with the default 25, a hundred, which
// fit in 4 KB for a printer's tables.
const bulkBudgetFactor = 4

// walkEach walks the roots one after the other.
func (s *gosnmpScraper) walkEach(roots []string) ([]gosnmp.SnmpPDU, error) {
	var out []gosnmp.SnmpPDU
	var errs []error
	for _, r := range roots {
		got, err := s.WalkAll(r)
		out = append(out, got...)
		if err != nil {
			errs = append(errs, fmt.Errorf("snmp walk %s: %w", r, err))
		}
	}
	return out, errors.Join(errs...)
}

func (s *gosnmpScraper) Close() error {
	if s.g.Conn == nil {
		return nil
	}
	return s.g.Conn.Close()
}
