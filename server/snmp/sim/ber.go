package sim

// A minimal BER codec: just what an SNMP v1/v2c agent needs to decode a
// request and encode a response, without allocating. Lengths are always
// definite (RFC 3417 §8).

// SNMP PDU tags.
const (
	pduGet      = 0xa0
	pduGetNext  = 0xa1
	pduResponse = 0xa2
	pduSet      = 0xa3
	pduGetBulk  = 0xa5
)

// SNMP versions on the wire.
const (
	versionV1  = 0
	versionV2c = 1
)

// Error statuses (RFC 3416).
const (
	errNoError    = 0
	errTooBig     = 1
	errNoSuchName = 2
	errNoAccess   = 6
)

// lenLen is the size of the BER encoding of length n.
func lenLen(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffff:
		return 4
	}
	return 5
}

// appendHeader appends a tag and a definite length.
func appendHeader(b []byte, tag byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, tag, byte(n))
	case n <= 0xff:
		return append(b, tag, 0x81, byte(n))
	case n <= 0xffff:
		return append(b, tag, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		return append(b, tag, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, tag, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// putHeader writes a tag and length so that they end at b[p], and returns
// where they start.
func putHeader(b []byte, p int, tag byte, n int) int {
	l := lenLen(n)
	p -= 1 + l
	b[p] = tag
	if l == 1 {
		b[p+1] = byte(n)
		return p
	}
	b[p+1] = 0x80 | byte(l-1)
	for i := l - 1; i >= 1; i-- {
		b[p+1+i] = byte(n)
		n >>= 8
	}
	return p
}

// putInt writes an INTEGER TLV ending at b[p] and returns where it starts.
func putInt(b []byte, p int, v int64) int {
	var tmp [8]byte
	c := appendIntContent(tmp[:0], v)
	p -= len(c)
	copy(b[p:], c)
	return putHeader(b, p, tagInteger, len(c))
}

// appendIntContent appends the minimal two's-complement content octets
// of v.
func appendIntContent(b []byte, v int64) []byte {
	n := 1
	for x := v; x > 127 || x < -128; x >>= 8 {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// appendUintContent appends the content octets of an unsigned value
// (Counter32, Gauge32, TimeTicks, Counter64): minimal, with a leading
// zero when the top bit would be set.
func appendUintContent(b []byte, v uint64) []byte {
	n := 1
	for x := v; x > 0xff; x >>= 8 {
		n++
	}
	if v>>(8*(n-1))&0x80 != 0 {
		b = append(b, 0)
	}
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// appendBase128 appends v in base 128, high groups first, with the
// continuation bit on all but the last byte.
func appendBase128(b []byte, v uint64) []byte {
	n := 1
	for x := v; x >= 0x80; x >>= 7 {
		n++
	}
	for i := n - 1; i > 0; i-- {
		b = append(b, byte(v>>(7*i))|0x80)
	}
	return append(b, byte(v&0x7f))
}

// appendOIDContent appends the content octets of an OID of at least two
// sub-identifiers.
func appendOIDContent(b []byte, oid []uint32) []byte {
	b = appendBase128(b, uint64(oid[0])*40+uint64(oid[1]))
	for _, n := range oid[2:] {
		b = appendBase128(b, uint64(n))
	}
	return b
}

// readTLV splits the first TLV off b. ok is false when b does not start
// with a complete, definite-length TLV with a low tag number.
func readTLV(b []byte) (tag byte, content, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, false // high tag numbers are not used by SNMP
	}
	n, i := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, false // indefinite, or absurdly long
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		i += k
	}
	if n > len(b)-i {
		return 0, nil, nil, false
	}
	return tag, b[i : i+n], b[i+n:], true
}

// parseInt decodes INTEGER content octets of up to 8 bytes.
func parseInt(c []byte) (int64, bool) {
	if len(c) == 0 || len(c) > 8 {
		return 0, false
	}
	v := int64(int8(c[0]))
	for _, x := range c[1:] {
		v = v<<8 | int64(x)
	}
	return v, true
}

// decodeOID appends the sub-identifiers of OID content octets to dst.
func decodeOID(dst []uint32, c []byte) ([]uint32, bool) {
	if len(c) == 0 {
		return dst, false
	}
	first := true
	var v uint64
	for i, x := range c {
		v = v<<7 | uint64(x&0x7f)
		limit := uint64(1<<32 - 1)
		if first {
			limit += 80 // 2.N with N up to 2^32-1 encodes as N+80
		}
		if v > limit {
			return dst, false
		}
		if x&0x80 != 0 {
			if i == len(c)-1 {
				return dst, false // truncated sub-identifier
			}
			continue
		}
		if first {
			switch {
			case v < 40:
				dst = append(dst, 0, uint32(v))
			case v < 80:
				dst = append(dst, 1, uint32(v-40))
			default:
				dst = append(dst, 2, uint32(v-80))
			}
			first = false
		} else {
			dst = append(dst, uint32(v))
		}
		v = 0
	}
	return dst, true
}

// reqVarbind is one varbind of a request: its encoded name (the OID TLV,
// to echo in exceptions) and the span of its decoded OID in the arena.
type reqVarbind struct {
	name       []byte
	start, end int
}

// request is a decoded v1/v2c request. Its slices point into the packet
// and into buffers reused from request to request.
type request struct {
	version   int64
	community []byte
	pdu       byte
	reqID     []byte // the request-id TLV, echoed as is
	// a and b are error-status and error-index, or for GetBulk
	// non-repeaters and max-repetitions.
	a, b  int64
	vbl   []byte // content of the varbind list
	vbs   []reqVarbind
	arena []uint32
}

// oid returns the decoded OID of varbind i.
func (r *request) oid(i int) []uint32 { return r.arena[r.vbs[i].start:r.vbs[i].end] }

// parseRequest decodes an SNMP v1 or v2c Get, GetNext, GetBulk or Set
// request into r. It reports false for anything else, which gets no
// answer.
func parseRequest(pkt []byte, r *request) bool {
	r.vbs, r.arena = r.vbs[:0], r.arena[:0]
	tag, msg, _, ok := readTLV(pkt)
	if !ok || tag != tagSequence {
		return false
	}
	tag, c, msg, ok := readTLV(msg)
	if !ok || tag != tagInteger {
		return false
	}
	if r.version, ok = parseInt(c); !ok || (r.version != versionV1 && r.version != versionV2c) {
		return false
	}
	if tag, r.community, msg, ok = readTLV(msg); !ok || tag != tagOctetString {
		return false
	}
	tag, pdu, _, ok := readTLV(msg)
	if !ok {
		return false
	}
	switch tag {
	case pduGet, pduGetNext, pduSet:
	case pduGetBulk:
		if r.version == versionV1 {
			return false
		}
	default:
		return false
	}
	r.pdu = tag
	before := pdu
	if tag, c, pdu, ok = readTLV(pdu); !ok || tag != tagInteger || len(c) == 0 || len(c) > 8 {
		return false
	}
	r.reqID = before[:len(before)-len(pdu)]
	if tag, c, pdu, ok = readTLV(pdu); !ok || tag != tagInteger {
		return false
	}
	if r.a, ok = parseInt(c); !ok {
		return false
	}
	if tag, c, pdu, ok = readTLV(pdu); !ok || tag != tagInteger {
		return false
	}
	if r.b, ok = parseInt(c); !ok {
		return false
	}
	if tag, r.vbl, _, ok = readTLV(pdu); !ok || tag != tagSequence {
		return false
	}
	for rest := r.vbl; len(rest) > 0; {
		var vb []byte
		if tag, vb, rest, ok = readTLV(rest); !ok || tag != tagSequence {
			return false
		}
		tag, c, after, ok := readTLV(vb)
		if !ok || tag != tagOID {
			return false
		}
		if _, _, extra, ok := readTLV(after); !ok || len(extra) != 0 {
			return false // a varbind is a name and one value, usually NULL
		}
		start := len(r.arena)
		if r.arena, ok = decodeOID(r.arena, c); !ok || len(r.arena)-start > maxSubIDs {
			return false
		}
		r.vbs = append(r.vbs, reqVarbind{name: vb[:len(vb)-len(after)], start: start, end: len(r.arena)})
	}
	return true
}
