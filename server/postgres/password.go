package postgres

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (OWASP's recommendation: 19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// hashPassword returns a PHC-formatted Argon2id hash with a random salt.
func hashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// dummyHash is verified against when there is no hash of the account to
// check (unknown, SSO-only or with a malformed hash), so that every failed
// sign-in costs one Argon2 run with the current parameters. It is written
// down rather than computed: it is ready before the first sign-in and
// costs commands that never sign anyone in nothing. Its key is all zeros,
// which no password yields (and a match is refused anyway).
var dummyHash = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
	base64.RawStdEncoding.EncodeToString([]byte("cmdb-dummy-salt!")), base64.RawStdEncoding.EncodeToString(make([]byte, argonKeyLen)))

// verifyPassword checks pw against a hash made by hashPassword, in
// constant time, running Argon2 exactly once whatever the hash: a
// malformed hash is replaced by dummyHash and never matches. hook, if not
// nil, is called once per Argon2 run (tests count them).
func verifyPassword(hash, pw string, hook func()) bool {
	salt, want, t, m, p, ok := parseHash(hash)
	if !ok {
		salt, want, t, m, p, _ = parseHash(dummyHash)
	}
	if hook != nil {
		hook()
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1 && ok
}

// parseHash splits a PHC-formatted Argon2id hash.
func parseHash(hash string) (salt, key []byte, t, m uint32, p uint8, ok bool) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return nil, nil, 0, 0, 0, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || t == 0 || p == 0 || m == 0 {
		return nil, nil, 0, 0, 0, false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	key, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return nil, nil, 0, 0, 0, false
	}
	return salt, key, t, m, p, true
}
