// Package sim is an SNMP v1/v2c agent simulator that answers from
// snmpsim-format recordings (".snmprec" files), fast enough to stand in
// for thousands of devices on one UDP port.
//
// # Data
//
// Start loads every *.snmprec file in Options.DataDir (not its
// subdirectories). Each file is one device; its community is the file
// name without the extension, so canon-c5535.snmprec answers on the
// community "canon-c5535". A line is
//
//	OID|TYPE|VALUE
//
// where TYPE is the BER tag in decimal: 2 Integer32, 4 OCTET STRING,
// 5 NULL, 6 OBJECT IDENTIFIER, 64 IpAddress, 65 Counter32, 66 Gauge32,
// 67 TimeTicks, 68 Opaque, 70 Counter64, and 128/129/130 for the
// noSuchObject/noSuchInstance/endOfMibView exceptions. An "x" after the
// type (4x, 64x, 68x) means VALUE is hex; an "e" (4e, 68e) means VALUE
// has Python-style backslash escapes (\n, \t, \\, \xHH, …), as snmpsim
// writes them. Blank lines and lines starting with # are skipped; like
// snmpsim, surrounding white space of a line is ignored. Records need not
// be sorted: they are sorted by OID (numerically, component by component)
// when loaded. snmpsim's variation modules (TYPE:MODULE) are not
// supported. A malformed line makes Start fail with an error naming every
// bad file:line, unless Options.Lenient is set, in which case the line is
// skipped with a warning.
//
// # Protocol
//
// The agent answers GetRequest, GetNextRequest and (v2c) GetBulkRequest
// with the semantics of RFC 3416: a Get of an OID that is not recorded
// yields noSuchInstance when the OID is a prefix of a recorded one or a
// sibling of the same length (sysDescr instead of sysDescr.0, sysDescr.1
// or ifDescr.9 next to sysDescr.0 or ifDescr.2) and noSuchObject
// otherwise (snmpsim always answers noSuchInstance); GetNext past the
// last record yields endOfMibView; GetBulk honours non-repeaters and
// max-repetitions and stops after the first row in which every repeater
// is at endOfMibView. Responses never exceed Options.MaxMessageSize bytes
// (default 65507, the largest UDP payload): GetBulk responses are
// truncated to fit, Get and GetNext answer tooBig. SNMPv1 requests get
// v1 semantics: misses are a noSuchName error and Counter64 values are
// invisible (RFC 2576 §4.1.2.1). SetRequest answers noAccess (v1:
// noSuchName), as a read-only community does. A request on an unknown
// community, an SNMPv3 message or a malformed packet gets no answer, as
// from a real agent.
//
// # Many devices from one file
//
// A community of the form NAME@N, with N a decimal number from 1 to
// 16777215 without leading zeros, answers as a distinct device number N
// built from NAME.snmprec: the same records, except that values which
// identify a device are varied deterministically by N:
//
//   - prtGeneralSerialNumber (1.3.6.1.2.1.43.5.1.1.17.*),
//     entPhysicalSerialNum (1.3.6.1.2.1.47.1.1.1.1.11.*) and sysName
//     (1.3.6.1.2.1.1.5.0), when not empty, get "-N" appended:
//     XLF01234 becomes XLF01234-17 for canon-c5535@17;
//   - ifPhysAddress (1.3.6.1.2.1.2.2.1.6.*), when six bytes long, keeps
//     its vendor prefix (OUI) and has N added to its last three bytes,
//     modulo 2^24: 00:1e:8f:aa:bb:cc becomes 00:1e:8f:aa:bb:dd for
//     canon-c5535@17.
//
// So canon-c5535@1 … canon-c5535@5000 are 5000 printers with distinct
// serial numbers and MAC addresses on one port, and no two of them, nor
// the plain canon-c5535, share either. A data file whose own name
// contains "@" is matched exactly first.
//
// # Performance
//
// Values are encoded once, when loaded, into ready-to-send varbinds, kept
// in one OID-sorted slice per device: Get and GetNext are a binary search,
// each further GetBulk repetition is the next slice element. A few
// workers (Options.Workers, default GOMAXPROCS) read from the one UDP
// socket, each decoding requests and encoding responses in its own
// buffers, so that answering allocates nothing.
package sim
