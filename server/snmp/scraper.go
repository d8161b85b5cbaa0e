package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
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
	// MaxRepetitions is the GETBULK size of walks (default 25).
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
	return &gosnmpScraper{g: g, maxRows: o.MaxRows}, nil
}

// getChunk is how many OIDs one GET asks for; small enough for any
// device's PDU size.
const getChunk = 20

type gosnmpScraper struct {
	g       *gosnmp.GoSNMP
	maxRows int
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

func (s *gosnmpScraper) Close() error {
	if s.g.Conn == nil {
		return nil
	}
	return s.g.Conn.Close()
}
