package snmp

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/gosnmp/gosnmp"
	"github.com/schulit/cmdb/server/cmdb"
)

// ClassifyError says why an SNMP request failed; "" for nil. It is a pure
// function of the error: gosnmp's USM report errors are wrong
// credentials, a read that ran out of time or retries is a timeout,
// ECONNREFUSED (an ICMP port unreachable on a connected UDP socket) is
// refused, no route or an unresolvable name is network, a device that
// answered without values is protocol, anything else other.
func ClassifyError(err error) cmdb.PollFailure {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, gosnmp.ErrUnknownUsername), errors.Is(err, gosnmp.ErrWrongDigest),
		errors.Is(err, gosnmp.ErrDecryption), errors.Is(err, gosnmp.ErrUnknownSecurityLevel),
		strings.Contains(err.Error(), "not authentic"):
		return cmdb.PollWrongCredentials
	case errors.Is(err, syscall.ECONNREFUSED):
		return cmdb.PollRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.As(err, &dnsErr):
		return cmdb.PollNetwork
	case errors.Is(err, gosnmp.ErrMaxRetriesExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return cmdb.PollTimeout
	case errors.Is(err, errNoAnswer), errors.Is(err, gosnmp.ErrUnknownReportPDU), errors.Is(err, gosnmp.ErrInvalidPacketLength):
		return cmdb.PollProtocol
	}
	return cmdb.PollOther
}

// failureRank orders failures by how much they tell: when a device fails
// every credential of a school, the most telling failure is kept (one
// v3 profile's "unknown user" says more than the silence of the v2c
// ones).
var failureRank = map[cmdb.PollFailure]int{
	cmdb.PollWrongCredentials: 6, cmdb.PollRefused: 5, cmdb.PollNetwork: 4, cmdb.PollProtocol: 3,
	cmdb.PollOther: 2, cmdb.PollTimeout: 1,
}

// worse returns the more telling of two failures.
func worse(a, b cmdb.PollFailure) cmdb.PollFailure {
	if failureRank[b] > failureRank[a] {
		return b
	}
	return a
}

// lacksPrinterMIB reports whether a reachable device's answer has
// nothing of the Printer-MIB: no page counter, no supplies, no printer
// status or errors. Projectors, which have none, are not meant.
func lacksPrinterMIB(r *cmdb.PollResult) bool {
	return r.Reachable && r.Class != cmdb.ClassProjector && r.PageCount == nil && len(r.Supplies) == 0 &&
		r.Status == "" && len(r.Errors) == 0
}
