package snmp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/server/cmdb"
)

// Report is a poll result with how it was obtained.
type Report struct {
	*cmdb.PollResult
	// Profile is the name of the profile that said what to read.
	Profile string `json:"profile,omitempty"`
	// Credential is the name of the credential profile that answered
	// (never its secrets).
	Credential string `json:"credential,omitempty"`
}

// Poll reads one device once; see PollReport.
func Poll(ctx context.Context, target string, creds []cmdb.SNMPCredential, o Options) (*cmdb.PollResult, error) {
	rep, err := PollReport(ctx, target, creds, o)
	if err != nil {
		return nil, err
	}
	return rep.PollResult, nil
}

// PollReport reads one device once. It tries the credential profiles in
// order: the first with which the device answers the system group
// (sysObjectID and friends) wins. The matching profile of o.Catalog says
// what else to read; the answers are decoded and classified.
//
// A device that answers no credential is not an error: the result has
// Reachable false and Failure says why (the most telling reason over the
// credentials, see ClassifyError), after at most Timeout × (Retries+1)
// per credential. A device that answers but has no Printer-MIB (and is
// not a projector) is reachable with Failure PollNoPrinterMIB.
// Tables a device fails to walk are left out. Errors are EINVALID for bad
// input (target, credentials[i].<field>) and the context's error when ctx
// ends first.
func PollReport(ctx context.Context, target string, creds []cmdb.SNMPCredential, o Options) (*Report, error) {
	o = o.withDefaults()
	if _, _, err := SplitTarget(target, o.Port); err != nil {
		return nil, err
	}
	if err := validateCreds(creds); err != nil {
		return nil, err
	}
	var failure cmdb.PollFailure
	for i := range creds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rep, err := pollWith(ctx, target, creds[i], o)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			f := ClassifyError(err)
			o.Logger.Debug("snmp: no answer", "target", target, "credential", creds[i].Name, "reason", f, "err", err)
			failure = worse(failure, f)
			continue
		}
		if lacksPrinterMIB(rep.PollResult) {
			rep.Failure = cmdb.PollNoPrinterMIB
		}
		return rep, nil
	}
	return &Report{PollResult: &cmdb.PollResult{Target: target, PolledAt: o.Now().UTC(), Failure: failure}}, nil
}

func validateCreds(creds []cmdb.SNMPCredential) error {
	if len(creds) == 0 {
		return cmdb.Invalid("credentials", "at least one SNMP credential is required")
	}
	for i := range creds {
		if err := creds[i].Validate(); err != nil {
			return cmdb.WithFieldPrefix(err, "credentials["+strconv.Itoa(i)+"]")
		}
	}
	return nil
}

// errNoAnswer is a session that got a response without a single value.
var errNoAnswer = errors.New("snmp: the device answered no system object")

func pollWith(ctx context.Context, target string, cred cmdb.SNMPCredential, o Options) (*Report, error) {
	s, err := o.Dial(ctx, target, cred, o)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	sys, err := s.Get(systemOIDs)
	if err != nil {
		return nil, err
	}
	var sysObjectID, sysDescr string
	answered := false
	for _, p := range sys {
		switch p.Type {
		case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
			continue
		}
		answered = true
		switch normOID(p.Name) {
		case oidSysObjectID:
			sysObjectID, _ = pduString(p)
		case oidSysDescr:
			sysDescr, _ = pduString(p)
		}
	}
	if !answered {
		return nil, errNoAnswer
	}
	prof := o.Catalog.Profile(sysObjectID, sysDescr)
	pdus := sys
	if oids := prof.getOIDs; len(oids) > 0 {
		got, err := s.Get(oids)
		pdus = append(pdus, got...)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			o.Logger.Debug("snmp: get failed", "target", target, "profile", prof.Name, "err", err)
		}
	}
	if mw, ok := s.(multiWalker); ok && len(prof.walkOIDs) > 1 {
		got, err := mw.WalkMany(prof.walkOIDs)
		pdus = append(pdus, got...)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			o.Logger.Debug("snmp: walk failed", "target", target, "profile", prof.Name, "err", err)
		}
	} else {
		for _, root := range prof.walkOIDs {
			got, err := s.WalkAll(root)
			pdus = append(pdus, got...)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				o.Logger.Debug("snmp: walk failed", "target", target, "profile", prof.Name, "oid", root, "err", err)
			}
		}
	}
	r := o.Catalog.Result(pdus)
	r.Target, r.Reachable, r.PolledAt = target, true, o.Now().UTC()
	return &Report{PollResult: r, Profile: prof.Name, Credential: cred.Name}, nil
}

func normOID(name string) string {
	if len(name) > 0 && name[0] == '.' {
		return name[1:]
	}
	return name
}

// MaxDiscoverAddresses is the largest range Discover scans: a /22.
const MaxDiscoverAddresses = cmdb.MaxRangeAddresses

// Discover polls every host address of a CIDR range (a bare address is
// one host) with at most o.Concurrency polls at once and returns the
// devices that answered, in address order. For IPv4 ranges larger than a
// /31 the network and broadcast addresses are skipped. Ranges over a /22
// (1024 addresses) and malformed ones are EINVALID on the field "range".
// When ctx ends, Discover stops starting polls and returns what it found
// with the context's error.
func Discover(ctx context.Context, cidr string, creds []cmdb.SNMPCredential, o Options) ([]*cmdb.PollResult, error) {
	o = o.withDefaults()
	hosts, err := rangeHosts(cidr)
	if err != nil {
		return nil, err
	}
	if err := validateCreds(creds); err != nil {
		return nil, err
	}
	found := make([]*cmdb.PollResult, len(hosts))
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
start:
	for i, h := range hosts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break start
		}
		target := h.String()
		if o.Port != DefaultPort {
			target = net.JoinHostPort(target, strconv.Itoa(o.Port))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if r, err := Poll(ctx, target, creds, o); err == nil && r.Reachable {
				found[i] = r
			}
		}()
	}
	wg.Wait()
	var out []*cmdb.PollResult
	for _, r := range found {
		if r != nil {
			out = append(out, r)
		}
	}
	return out, ctx.Err()
}

// rangeHosts lists the host addresses of a CIDR range or single address.
func rangeHosts(cidr string) ([]netip.Addr, error) {
	var p netip.Prefix
	if a, err := netip.ParseAddr(cidr); err == nil {
		p = netip.PrefixFrom(a, a.BitLen())
	} else if p, err = netip.ParsePrefix(cidr); err != nil {
		return nil, cmdb.Invalid("range", "%q is not a CIDR range such as 10.1.2.0/24", cidr)
	}
	p = p.Masked()
	hostBits := p.Addr().BitLen() - p.Bits()
	if hostBits > 10 {
		return nil, cmdb.Invalid("range", "%s is too large: at most %d addresses (a /%d) are scanned at once", p, MaxDiscoverAddresses, p.Addr().BitLen()-10)
	}
	var hosts []netip.Addr
	for a := p.Addr(); a.IsValid() && p.Contains(a); a = a.Next() {
		hosts = append(hosts, a)
	}
	if p.Addr().Is4() && hostBits >= 2 {
		hosts = hosts[1 : len(hosts)-1]
	}
	return hosts, nil
}
