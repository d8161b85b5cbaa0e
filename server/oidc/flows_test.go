package oidc

import (
	"testing"
	"time"
)

func TestFlowsBoundedAndExpiring(t *testing.T) {
	now := time.Now()
	fs := newFlows(3)
	a := fs.put(&flow{state: "a", expires: now.Add(time.Minute)}, now)
	b := fs.put(&flow{state: "b", expires: now.Add(2 * time.Minute)}, now)
	c := fs.put(&flow{state: "c", expires: now.Add(-time.Second)}, now) // already expired
	if fs.take(c, now) != nil {
		t.Fatal("expired flow taken")
	}
	fs.put(&flow{state: "x", expires: now.Add(-time.Second)}, now)
	d := fs.put(&flow{state: "d", expires: now.Add(3 * time.Minute)}, now) // full: x purged
	if n := fs.len(); n != 3 {
		t.Fatalf("%d flows kept", n)
	}
	e := fs.put(&flow{state: "e", expires: now.Add(4 * time.Minute)}, now) // full, none expired: a dropped
	if fs.len() != 3 || fs.take(a, now) != nil {
		t.Fatal("oldest flow not dropped")
	}
	for id, want := range map[string]string{b: "b", d: "d", e: "e"} {
		if got := fs.take(id, now); got == nil || got.state != want {
			t.Fatalf("take %s: %+v", want, got)
		}
		if fs.take(id, now) != nil {
			t.Fatalf("flow %s taken twice", want)
		}
	}
}
