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

// TestLocalPath: a sign-in returns only to a path of this site.
func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "/",
		"/tickets":             "/tickets",
		"/tickets/A-1?ok=1#x":  "/tickets/A-1?ok=1#x",
		"//evil.example/":      "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"tickets":              "/",
		"/x\r\nSet-Cookie: a":  "/",
		"javascript:alert(1)":  "/",
	} {
		if got := LocalPath(in); got != want {
			t.Errorf("LocalPath(%q) = %q, want %q", in, got, want)
		}
	}
}
