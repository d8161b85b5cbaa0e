package web

import (
	"os"
	"testing"
	"time"
)

func readSource(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}
