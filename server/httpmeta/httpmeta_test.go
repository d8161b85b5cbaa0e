package httpmeta

import (
	"net/http/httptest"
	"testing"
)

func TestSignInLimiterPerAddress(t *testing.T) {
	var l SignInLimiter
	for i := range 10 {
		if !l.Allow("192.0.2.1") {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	if l.Allow("192.0.2.1") {
		t.Fatal("the 11th attempt at once was allowed")
	}
	if !l.Allow("192.0.2.2") {
		t.Fatal("another address shares the first one's bucket")
	}
}

func TestMeta(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr, r.Header["User-Agent"] = "[2001:db8::1]:4711", []string{"Firefox"}
	if m := Meta(r); m.IP != "2001:db8::1" || m.UserAgent != "Firefox" {
		t.Fatalf("%+v", m)
	}
}
