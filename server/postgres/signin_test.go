package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

const signInPassword = "Kreide-Tafel-2026!"

// signInFixture is a store with one account of each kind a sign-in can
// meet, and a counter of Argon2 verifications.
type signInFixture struct {
	db       *postgres.DB
	verifies atomic.Int64
	next     atomic.Int64 // for distinct client addresses
}

func newSignInFixture(t *testing.T, opts postgres.Options) *signInFixture {
	t.Helper()
	f := &signInFixture{db: postgrestest.MustOpenDB(t, opts)}
	postgres.SetVerifyHook(f.db, func() { f.verifies.Add(1) })
	ctx := context.Background()
	tn := MustCreateTenant(t, f.db, "SI")
	for _, email := range []string{"known@si.de", "locked@si.de", "disabled@si.de"} {
		must(t, f.db.CreateUser(ctx, admin, &cmdb.User{Email: email, Memberships: []cmdb.Membership{{Role: cmdb.RoleTeacher, OrgID: tn.School.ID}}},
			signInPassword))
	}
	// Single sign-on only: no password hash.
	must(t, f.db.CreateUser(ctx, admin, &cmdb.User{Email: "sso@si.de", Memberships: []cmdb.Membership{{Role: cmdb.RoleTeacher, OrgID: tn.School.ID}}}, ""))
	users, err := f.db.FindUsers(ctx, admin)
	must(t, err)
	for _, u := range users {
		if u.Email == "disabled@si.de" {
			must(t, f.db.SetUserActive(ctx, admin, u.ID, false))
		}
	}
	// Lock one account by failing (LockoutAfter is 5 by default).
	for i := 0; i < 5; i++ {
		f.signIn(t, "locked@si.de", "falsch", "")
	}
	return f
}

// signIn signs in from a new client address (ip "") or the given one and
// returns the Argon2 verifications it ran and the error.
func (f *signInFixture) signIn(t *testing.T, email, password, ip string) (int64, error) {
	t.Helper()
	if ip == "" {
		ip = fmt.Sprintf("192.0.2.%d", f.next.Add(1)%250+1)
	}
	before := f.verifies.Load()
	_, _, err := f.db.SignIn(context.Background(), email, cmdb.Secret(password), cmdb.RequestMeta{IP: ip})
	return f.verifies.Load() - before, err
}

// TestSignInCostsOneVerificationOnEveryPath: unknown address, SSO-only,
// disabled, locked, throttled, wrong and right password each run Argon2
// exactly once, and every failure answers the same.
func TestSignInCostsOneVerificationOnEveryPath(t *testing.T) {
	t.Parallel()
	f := newSignInFixture(t, postgres.Options{})
	throttled := "198.51.100.7"
	for i := 0; i < 20; i++ { // the address limit is 20 failures
		f.signIn(t, "nobody@si.de", "x", throttled)
	}
	var answers []string
	for _, tt := range []struct {
		name, email, password, ip string
		ok                        bool
	}{
		{"unknown e-mail", "nobody@si.de", signInPassword, "", false},
		{"malformed e-mail", "not an address", signInPassword, "", false},
		{"wrong password", "known@si.de", "falsches Passwort", "", false},
		{"single sign-on only", "sso@si.de", signInPassword, "", false},
		{"disabled", "disabled@si.de", signInPassword, "", false},
		{"locked, right password", "locked@si.de", signInPassword, "", false},
		{"address throttled", "known@si.de", signInPassword, throttled, false},
		{"right password", "known@si.de", signInPassword, "", true},
	} {
		n, err := f.signIn(t, tt.email, tt.password, tt.ip)
		if n != 1 {
			t.Errorf("%s: %d Argon2 verifications, want exactly 1", tt.name, n)
		}
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want success %t", tt.name, err, tt.ok)
		}
		if err != nil {
			answers = append(answers, cmdb.ErrorCode(err)+" "+cmdb.ErrorMessage(err))
		}
	}
	if distinct := slices.Compact(slices.Clone(answers)); len(distinct) != 1 {
		t.Errorf("failures answer differently: %q", answers)
	}
}

// TestSignInTimingUnknownVsWrongPassword compares the time distributions
// of the two failures an attacker would tell apart to list accounts: an
// unknown e-mail address and a known one with a wrong password. The issue
// asks for a comparison of distributions, not single samples: 15 samples
// of each, interleaved so that machine load hits both alike, and their
// medians must lie within a factor of two of each other. Before the fix
// the unknown address skipped Argon2 entirely (about 3 ms against 25–30
// ms, a factor of ten), which this bound catches; the bound is generous so
// that a loaded test machine does not make it flaky. The deterministic
// proof is TestSignInCostsOneVerificationOnEveryPath.
func TestSignInTimingUnknownVsWrongPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison")
	}
	f := newSignInFixture(t, postgres.Options{LockoutAfter: 1000})
	const samples = 15
	var unknown, wrong []time.Duration
	measure := func(email string) time.Duration {
		start := time.Now()
		if _, err := f.signIn(t, email, "falsches Passwort", ""); err == nil {
			t.Fatalf("%s signed in with a wrong password", email)
		}
		return time.Since(start)
	}
	measure("known@si.de") // warm up connections and caches
	for i := 0; i < samples; i++ {
		unknown = append(unknown, measure(fmt.Sprintf("nobody%d@si.de", i)))
		wrong = append(wrong, measure("known@si.de"))
	}
	median := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[len(s)/2]
	}
	mu, mw := median(unknown), median(wrong)
	ratio := float64(mu) / float64(mw)
	t.Logf("median unknown %v, wrong password %v, ratio %.2f", mu, mw, ratio)
	if ratio < 0.5 || ratio > 2.0 {
		t.Errorf("unknown e-mail takes %v (median of %d), wrong password %v: ratio %.2f outside [0.5, 2.0]; the timing tells which accounts exist",
			mu, samples, mw, ratio)
	}
}
