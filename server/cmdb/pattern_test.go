package cmdb

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

// poissonTailBySum is P(X ≥ k) by summing the probability mass from k up,
// each term computed on its own in log space: independent of the
// incomplete-gamma algorithms under test.
func poissonTailBySum(k int, mu float64) float64 {
	hi := int(math.Max(float64(k), mu)+60*math.Sqrt(mu)) + 200
	sum := 0.0
	for i := hi; i >= k; i-- { // smallest terms first
		lg, _ := math.Lgamma(float64(i) + 1)
		sum += math.Exp(-mu + float64(i)*math.Log(mu) - lg)
	}
	return sum
}

func TestPoissonUpperTailKnownValues(t *testing.T) {
	for _, tc := range []struct {
		k    int
		mu   float64
		want float64
	}{
		{0, 3, 1},
		{-1, 3, 1},
		{1, 0, 0},
		{1, 2, -math.Expm1(-2)},    // 1 − e^−2
		{2, 2, 1 - 3*math.Exp(-2)}, // 1 − e^−2 (1 + 2)
		{5, 1, 1 - 65/(24*math.E)}, // 1 − e^−1 (1 + 1 + 1/2 + 1/6 + 1/24)
		{3, 0.5, 1 - math.Exp(-0.5)*(1+0.5+0.125)}, // 1 − e^−μ (1 + μ + μ²/2)
		{1, 1e-9, -math.Expm1(-1e-9)},
	} {
		got := PoissonUpperTail(tc.k, tc.mu)
		if math.Abs(got-tc.want) > 1e-14*math.Max(tc.want, 1e-300) && got != tc.want {
			t.Errorf("P(X ≥ %d | μ=%g) = %.17g, want %.17g", tc.k, tc.mu, got, tc.want)
		}
	}
	for _, mu := range []float64{-1, math.NaN()} {
		if !math.IsNaN(PoissonUpperTail(3, mu)) {
			t.Errorf("μ=%g: want NaN", mu)
		}
	}
}

func TestPoissonUpperTailAgainstSummation(t *testing.T) {
	for _, k := range []int{1, 2, 3, 5, 7, 10, 20, 50, 100, 500} {
		for _, mu := range []float64{0.01, 0.1, 0.5, 1, 2, 4.99, 5, 6, 10, 30, 99, 100, 101, 400, 1000} {
			got, want := PoissonUpperTail(k, mu), poissonTailBySum(k, mu)
			if want < 1e-290 {
				continue // below what the reference sum can represent
			}
			if rel := math.Abs(got-want) / want; rel > 1e-11 {
				t.Errorf("P(X ≥ %d | μ=%g) = %.15g, summation gives %.15g (relative error %.2g)", k, mu, got, want, rel)
			}
		}
	}
	// Far tails keep their relative precision instead of becoming 0.
	if got, want := PoissonUpperTail(50, 1), poissonTailBySum(50, 1); got == 0 || math.Abs(got-want)/want > 1e-11 {
		t.Errorf("P(X ≥ 50 | μ=1) = %g, want %g", got, want)
	}
}

// fleet returns n devices of one model, each a year in service, with the
// incidents spread one per device from the first on.
func fleet(prefix, class, vendor, model string, n, incidents int) []PatternDevice {
	ds := make([]PatternDevice, n)
	for i := range ds {
		ds[i] = PatternDevice{CIID: fmt.Sprintf("%s-%03d", prefix, i), Class: class, Vendor: vendor, Model: model, Years: 1}
	}
	for i := range incidents {
		ds[i%n].Incidents++
	}
	return ds
}

func TestFindModelPatterns(t *testing.T) {
	// The rest of the class: 100 projector-years with 20 incidents, λ = 0.2.
	base := fleet("ep", ClassProjector, "Epson", "EB-1", 100, 20)
	type want struct {
		model  string
		lambda float64
	}
	for _, tc := range []struct {
		name    string
		devices []PatternDevice
		want    []want
	}{
		{"a clearly bad model", fleet("ac", ClassProjector, "Acme", "X1", 10, 10), []want{{"X1", 0.2}}},
		{"few incidents on few devices", fleet("ac", ClassProjector, "Acme", "X1", 2, 5), nil},
		{"a handful of incidents", fleet("ac", ClassProjector, "Acme", "X1", 4, 4), nil},
		{"five incidents, not significant", fleet("ac", ClassProjector, "Acme", "X1", 10, 5), nil}, // P(X≥5|2) ≈ 0.053
		{"as good as the rest", fleet("ac", ClassProjector, "Acme", "X1", 50, 10), nil},
		{"another class's rate does not count", append(fleet("ac", ClassProjector, "Acme", "X1", 10, 10),
			fleet("pr", ClassPrinter, "HP", "P1", 100, 500)...), []want{{"X1", 0.2}}},
		{"spelling variants are one model", append(fleet("ac", ClassProjector, "ACME ", "x1", 5, 5),
			fleet("ad", ClassProjector, "acme", " X1", 5, 5)...), []want{{"x1", 0.2}}},
	} {
		got := FindModelPatterns(append(slices.Clone(base), tc.devices...), PatternRule{})
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d patterns %+v, want %d", tc.name, len(got), got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			g := got[i]
			if g.Model != w.model || math.Abs(g.ClassRate-w.lambda) > 1e-12 || g.PValue >= 0.01 {
				t.Errorf("%s: pattern %+v, want model %s with class rate %g", tc.name, g, w.model, w.lambda)
			}
		}
	}
}

func TestModelPatternFields(t *testing.T) {
	ds := append(fleet("ep", ClassProjector, "Epson", "EB-1", 100, 20), fleet("ac", ClassProjector, "Acme", "X1", 10, 10)...)
	ds[100].Years = 0.5 // one bad projector came in half-way through
	got := FindModelPatterns(ds, DefaultPatternRule())
	if len(got) != 1 {
		t.Fatalf("patterns %+v", got)
	}
	p := got[0]
	mu := 0.2 * 9.5
	if p.Class != ClassProjector || p.Vendor != NormalizeVendor("Acme") || p.Incidents != 10 || p.Devices != 10 ||
		p.DevicesAffected != 10 || p.DeviceYears != 9.5 || math.Abs(p.Rate-10/9.5) > 1e-12 ||
		math.Abs(p.Expected-mu) > 1e-12 || math.Abs(p.PValue-poissonTailBySum(10, mu)) > 1e-12*p.PValue {
		t.Errorf("pattern %+v, want 10 incidents over 9.5 years, μ=%g", p, mu)
	}
	if len(p.CIIDs) != 10 || !slices.IsSorted(p.CIIDs) || p.CIIDs[0] != "ac-000" {
		t.Errorf("CIIDs %v", p.CIIDs)
	}
	// The model's own incidents are not part of its yardstick: with them
	// λ would be 30/109.5.
	if math.Abs(p.ClassRate-0.2) > 1e-12 {
		t.Errorf("class rate %g, want 0.2 (the rest of the class)", p.ClassRate)
	}
}

func TestModelPatternEdgeCases(t *testing.T) {
	// The rest never failed: λ counts half an incident, so five
	// incidents over ten years against 0.5 in 100 years stand out…
	clean := fleet("ep", ClassProjector, "Epson", "EB-1", 100, 0)
	got := FindModelPatterns(append(slices.Clone(clean), fleet("ac", ClassProjector, "Acme", "X1", 10, 5)...), PatternRule{})
	if len(got) != 1 || math.Abs(got[0].ClassRate-0.005) > 1e-12 {
		t.Errorf("against a clean class: %+v", got)
	}
	// …but not against a tiny rest (1 device, half a year).
	small := []PatternDevice{{CIID: "ep", Class: ClassProjector, Vendor: "Epson", Model: "EB-1", Years: 0.5}}
	if got := FindModelPatterns(append(small, fleet("ac", ClassProjector, "Acme", "X1", 10, 20)...), PatternRule{}); len(got) != 0 {
		t.Errorf("against a tiny class: %+v", got)
	}
	// A model that is its whole class has nothing to compare with.
	if got := FindModelPatterns(fleet("ac", ClassProjector, "Acme", "X1", 10, 50), PatternRule{}); len(got) != 0 {
		t.Errorf("alone in its class: %+v", got)
	}
	// Devices without a model count for the class only.
	anon := fleet("an", ClassProjector, "", "", 100, 20)
	got = FindModelPatterns(append(anon, fleet("ac", ClassProjector, "Acme", "X1", 10, 10)...), PatternRule{})
	if len(got) != 1 || got[0].Model != "X1" {
		t.Errorf("with anonymous devices: %+v", got)
	}
	// Nonsense measurements are skipped, not counted.
	bad := append(slices.Clone(clean), PatternDevice{CIID: "x", Class: ClassProjector, Vendor: "Acme", Model: "X1", Years: math.NaN(), Incidents: 100})
	if got := FindModelPatterns(bad, PatternRule{}); len(got) != 0 {
		t.Errorf("NaN years: %+v", got)
	}
	// Stricter rule.
	strict := PatternRule{Alpha: 0.0001, MinIncidents: 5, MinDevices: 3}
	base := fleet("ep", ClassProjector, "Epson", "EB-1", 100, 20)
	if got := FindModelPatterns(append(base, fleet("ac", ClassProjector, "Acme", "X1", 10, 8)...), strict); len(got) != 0 {
		t.Errorf("alpha 0.0001 passed P(X≥8|2) ≈ 0.0011: %+v", got)
	}
}

func TestPatternRuleValidate(t *testing.T) {
	if err := DefaultPatternRule().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rule  PatternRule
		field string
	}{
		{PatternRule{0, 5, 3}, "alpha"},
		{PatternRule{0.6, 5, 3}, "alpha"},
		{PatternRule{0.01, 0, 3}, "min_incidents"},
		{PatternRule{0.01, 5, 0}, "min_devices"},
		{PatternRule{0.01, MaxPatternCount + 1, 3}, "min_incidents"},
		{PatternRule{0.01, 5, MaxPatternCount + 1}, "min_devices"},
	} {
		if err := tc.rule.Validate(); ErrorCode(err) != EINVALID || ErrorField(err) != tc.field {
			t.Errorf("want EINVALID on %s, got %v", tc.field, err)
		}
	}
}

func TestServiceYears(t *testing.T) {
	y := func(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		in, out, from, to time.Time
		want              float64
	}{
		{y(2020), time.Time{}, y(2025), y(2026), 365.0 / 365.2425},
		{y(2025).AddDate(0, 6, 0), time.Time{}, y(2025), y(2026), 184.0 / 365.2425},
		{y(2020), y(2025).AddDate(0, 1, 0), y(2025), y(2026), 31.0 / 365.2425},
		{y(2020), y(2024), y(2025), y(2026), 0},
		{y(2027), time.Time{}, y(2025), y(2026), 0},
	} {
		if got := ServiceYears(tc.in, tc.out, tc.from, tc.to); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("ServiceYears(%s, %s) = %g, want %g", tc.in.Format(time.DateOnly), tc.out.Format(time.DateOnly), got, tc.want)
		}
	}
}
