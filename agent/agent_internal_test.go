package agent

import (
	"path/filepath"
	"testing"
	"time"
)

func TestJitterWithinTenPercent(t *testing.T) {
	for _, j := range []float64{0, 0.5, 0.999} {
		a, err := New(Options{StatePath: filepath.Join(t.TempDir(), "s.json"), Jitter: func() float64 { return j }})
		if err != nil {
			t.Fatal(err)
		}
		a.st.IntervalSeconds = 3600
		d := a.nextDelay()
		if d < 54*time.Minute || d > 66*time.Minute {
			t.Errorf("jitter %v: delay %v outside 1h ±10 %%", j, d)
		}
	}
}

func TestIntervalBounds(t *testing.T) {
	a, err := New(Options{StatePath: filepath.Join(t.TempDir(), "s.json")})
	if err != nil {
		t.Fatal(err)
	}
	for secs, want := range map[int]time.Duration{0: time.Hour, 1: time.Minute, 900: 15 * time.Minute, 1 << 30: MaxInterval} {
		a.st.IntervalSeconds = secs
		if got := a.Interval(); got != want {
			t.Errorf("IntervalSeconds %d: %v, want %v", secs, got, want)
		}
	}
}
