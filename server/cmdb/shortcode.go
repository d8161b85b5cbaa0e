package cmdb

import (
	"math/big"
	"strings"
)

// A CI's short code is what its QR label says and what a person types
// from it: six characters (seven and more only past 805 million CIs) from
// an alphabet without the look-alikes 0/O and 1/I/l, the first always a
// letter, so that a code never reads as a numeric id. It follows from the
// CI's id by a fixed bijection, so it is stable, unique across all
// tenants, needs no storage and cannot run out; consecutive ids give
// unrelated codes. A code names a CI, it grants nothing: looking one up
// is scoped like any other lookup.

const (
	codeLetters = "ABCDEFGHJKLMNPQRSTUVWXYZ" // 24: no I, O
	codeChars   = "23456789" + codeLetters   // 32: no 0, 1
	codeMult    = 489438031                  // coprime to 2 and 3, so a bijection modulo 24·32^k
	codeAdd     = 271828183                  // a fixed offset, so id 1 is not "AAAAA2"-like
	codeMinLen  = 6
)

// codeSpace is how many codes of length n there are: 24·32^(n-1).
func codeSpace(n int) int64 {
	s := int64(len(codeLetters))
	for i := 1; i < n; i++ {
		s *= int64(len(codeChars))
	}
	return s
}

// ShortCode returns the short code of CI id (id ≥ 1).
func ShortCode(id int64) string {
	n, base := codeMinLen, int64(0)
	for id-1 >= base+codeSpace(n) {
		base += codeSpace(n)
		n++
	}
	m := codeSpace(n)
	v := new(big.Int).Mul(big.NewInt(id-1-base), big.NewInt(codeMult))
	v.Add(v, big.NewInt(codeAdd)).Mod(v, big.NewInt(m))
	x := v.Int64()
	b := make([]byte, n)
	for i := n - 1; i > 0; i-- {
		b[i] = codeChars[x%32]
		x /= 32
	}
	b[0] = codeLetters[x]
	return string(b)
}

// ParseShortCode returns the CI id of a short code. Case and surrounding
// spaces or hyphens are ignored ("k7m-2qx" is K7M2QX); a code with a
// character outside the alphabet, or of the wrong length, is EINVALID
// naming field.
func ParseShortCode(field, code string) (int64, error) {
	c := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	if len(c) < codeMinLen || len(c) > 12 {
		return 0, Invalid(field, "a short code has %d characters, such as %s", codeMinLen, ShortCode(1))
	}
	first := strings.IndexByte(codeLetters, c[0])
	if first < 0 {
		return 0, Invalid(field, "a short code starts with a letter (not I or O)")
	}
	x := int64(first)
	for i := 1; i < len(c); i++ {
		d := strings.IndexByte(codeChars, c[i])
		if d < 0 {
			return 0, Invalid(field, "%q is not in a short code: it uses 2–9 and the letters without I and O", c[i])
		}
		x = x*32 + int64(d)
	}
	n := len(c)
	base := int64(0)
	for k := codeMinLen; k < n; k++ {
		base += codeSpace(k)
	}
	m := big.NewInt(codeSpace(n))
	inv := new(big.Int).ModInverse(big.NewInt(codeMult), m)
	v := new(big.Int).Sub(big.NewInt(x), big.NewInt(codeAdd))
	v.Mod(v, m).Mul(v, inv).Mod(v, m)
	return v.Int64() + base + 1, nil
}
