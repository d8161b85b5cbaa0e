package cmdb

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// PatternDevice is what the model-pattern test needs of one device (CI) of
// an authority over the period examined.
type PatternDevice struct {
	CIID   string
	Class  string
	Vendor string
	Model  string
	// Years is the device's time in service within the period, in years
	// (see ServiceYears).
	Years float64
	// Incidents is the number of distinct incidents on the device in the
	// period (duplicates merged into one count once; requests never).
	Incidents int
}

// PatternRule holds the thresholds of the model-pattern test.
type PatternRule struct {
	// Alpha is the significance level: a model is a pattern when
	// P(X ≥ k) < Alpha.
	Alpha float64 `json:"alpha"`
	// MinIncidents and MinDevices: at least this many incidents on at
	// least this many distinct devices of the model.
	MinIncidents int `json:"min_incidents"`
	MinDevices   int `json:"min_devices"`
}

// DefaultPatternRule returns p < 0.01 with at least 5 incidents on at least
// 3 devices.
func DefaultPatternRule() PatternRule {
	return PatternRule{Alpha: 0.01, MinIncidents: 5, MinDevices: 3}
}

// MaxPatternCount bounds MinIncidents and MinDevices: a rule that asks
// for more than this never finds a pattern in a school authority.
const MaxPatternCount = 10000

// Validate returns an EINVALID error naming the field ("alpha",
// "min_incidents", "min_devices"), or nil: alpha in (0, 0.5], 1 to
// MaxPatternCount incidents and devices.
func (r PatternRule) Validate() error {
	if !(r.Alpha > 0 && r.Alpha <= 0.5) {
		return Invalid("alpha", "must be greater than 0 and at most 0.5 (got %g)", r.Alpha)
	}
	if r.MinIncidents < 1 || r.MinIncidents > MaxPatternCount {
		return Invalid("min_incidents", "must be 1 to %d (got %d)", MaxPatternCount, r.MinIncidents)
	}
	if r.MinDevices < 1 || r.MinDevices > MaxPatternCount {
		return Invalid("min_devices", "must be 1 to %d (got %d)", MaxPatternCount, r.MinDevices)
	}
	return nil
}

// AuditPatternRuleSet is the audit action of a changed model-pattern rule.
const AuditPatternRuleSet = "pattern_rule_set"

// ModelPattern is a vendor+model whose incident rate stands out against
// the rest of its class in the authority.
type ModelPattern struct {
	Class  string `json:"class"`
	Vendor string `json:"vendor"`
	Model  string `json:"model"`
	// Incidents is k, the model's incidents; DeviceYears is T, its time in
	// service.
	Incidents   int     `json:"incidents"`
	DeviceYears float64 `json:"device_years"`
	// Devices counts the model's devices, DevicesAffected those with at
	// least one incident.
	Devices         int `json:"devices"`
	DevicesAffected int `json:"devices_affected"`
	// Rate is k/T; ClassRate is λ, the rate of the class's other devices;
	// Expected is μ = λ·T.
	Rate      float64 `json:"rate"`
	ClassRate float64 `json:"class_rate"`
	Expected  float64 `json:"expected"`
	// PValue is P(X ≥ k) for X ~ Poisson(μ).
	PValue float64 `json:"p_value"`
	// CIIDs are the model's devices, sorted.
	CIIDs []string `json:"ci_ids"`
}

// minRestYears: the rest of the class must have been in service at least
// this long for its rate to be a yardstick.
const minRestYears = 1.0

// FindModelPatterns runs the model-pattern test over an authority's
// devices and returns the patterns, most significant first (ties by
// class, vendor, model). rule must be valid; its zero value means
// DefaultPatternRule.
//
// Devices are grouped by class and model (vendor compared by VendorKey,
// model case- and space-insensitively); devices without vendor or model
// count towards their class only. For a model with k incidents over T
// device-years, λ is the rate of the rest of its class — the class's
// incidents and years without the model's own, so that a bad model does
// not raise its own yardstick. When the rest had no incident, λ counts
// half an incident (a rest with zero incidents otherwise makes any model
// significant); when the rest has less than one device-year, there is
// nothing to compare with and the model is skipped. The model is a pattern
// when k ≥ MinIncidents on at least MinDevices devices, k/T > λ and the
// exact one-sided Poisson test gives P(X ≥ k | μ = λ·T) < Alpha. Each
// model is tested on its own, without correction for multiple tests, as
// the rule's thresholds already demand a clear excess.
func FindModelPatterns(devices []PatternDevice, rule PatternRule) []ModelPattern {
	groups := make([]PatternGroup, 0, len(devices))
	for _, d := range devices {
		affected := 0
		if d.Incidents > 0 {
			affected = 1
		}
		groups = append(groups, PatternGroup{Class: d.Class, Vendor: d.Vendor, Model: d.Model, Years: d.Years,
			Incidents: d.Incidents, Devices: 1, Affected: affected, CIIDs: []string{d.CIID}})
	}
	return FindModelPatternsInGroups(groups, rule)
}

// PatternGroup is the sum over some devices of one class, vendor and
// model as stored (a database can add them up without knowing vendor
// aliases): Devices devices, Affected of them with an incident, Years in
// service and Incidents in all. CIIDs may be left empty.
type PatternGroup struct {
	Class, Vendor, Model string
	Years                float64
	Incidents            int
	Devices, Affected    int
	CIIDs                []string
}

// FindModelPatternsInGroups is FindModelPatterns over devices already
// summed up per class, vendor and model; groups of the same model under
// other spellings (vendor aliases, case, spaces) are joined first.
func FindModelPatternsInGroups(groups []PatternGroup, rule PatternRule) []ModelPattern {
	if rule == (PatternRule{}) {
		rule = DefaultPatternRule()
	}
	type totals struct {
		k      int
		years  float64
		n      int
		hit    int
		ids    []string
		vendor string
		model  string
		class  string
	}
	classes := map[string]*totals{}
	models := map[[3]string]*totals{}
	for _, d := range groups {
		if d.Years < 0 || math.IsNaN(d.Years) || math.IsInf(d.Years, 0) || d.Incidents < 0 || d.Devices < 0 || d.Affected < 0 {
			continue // not a measurement
		}
		c := classes[d.Class]
		if c == nil {
			c = &totals{}
			classes[d.Class] = c
		}
		c.k += d.Incidents
		c.years += d.Years
		vendor, model := strings.TrimSpace(d.Vendor), strings.Join(strings.Fields(d.Model), " ")
		if vendor == "" || model == "" {
			continue
		}
		key := [3]string{d.Class, VendorKey(vendor), strings.ToLower(model)}
		m := models[key]
		if m == nil {
			m = &totals{vendor: NormalizeVendor(vendor), model: model, class: d.Class}
			models[key] = m
		}
		m.k += d.Incidents
		m.years += d.Years
		m.n += d.Devices
		m.hit += d.Affected
		m.ids = append(m.ids, d.CIIDs...)
	}
	var out []ModelPattern
	for _, m := range models {
		if m.k < rule.MinIncidents || m.hit < rule.MinDevices || m.years <= 0 {
			continue
		}
		c := classes[m.class]
		restK, restYears := float64(c.k-m.k), c.years-m.years
		if restYears < minRestYears {
			continue
		}
		restK = max(restK, 0.5)
		lambda := restK / restYears
		rate := float64(m.k) / m.years
		if rate <= lambda {
			continue
		}
		mu := lambda * m.years
		p := PoissonUpperTail(m.k, mu)
		if !(p < rule.Alpha) {
			continue
		}
		ids := slices.Clone(m.ids)
		slices.Sort(ids)
		out = append(out, ModelPattern{
			Class: m.class, Vendor: m.vendor, Model: m.model,
			Incidents: m.k, DeviceYears: m.years, Devices: m.n, DevicesAffected: m.hit,
			Rate: rate, ClassRate: lambda, Expected: mu, PValue: p, CIIDs: ids,
		})
	}
	slices.SortFunc(out, func(a, b ModelPattern) int {
		return cmp.Or(cmp.Compare(a.PValue, b.PValue), cmp.Compare(a.Class, b.Class),
			cmp.Compare(a.Vendor, b.Vendor), cmp.Compare(a.Model, b.Model))
	})
	return out
}

// yearLength is the mean Gregorian year.
const yearLength = time.Duration(365.2425 * 24 * float64(time.Hour))

// ServiceYears returns how long a device in service from inService until
// outOfService (zero: still in service) was in service within the period
// [from, to), in years of 365.2425 days; 0 when the spans do not overlap.
func ServiceYears(inService, outOfService, from, to time.Time) float64 {
	s, e := inService, outOfService
	if e.IsZero() || e.After(to) {
		e = to
	}
	if s.Before(from) {
		s = from
	}
	if !e.After(s) {
		return 0
	}
	return float64(e.Sub(s)) / float64(yearLength)
}

// PoissonUpperTail returns P(X ≥ k) for X ~ Poisson(mu): 1 for k ≤ 0, 0 for
// mu = 0 and k > 0, NaN for mu < 0 or NaN. It is the regularized lower
// incomplete gamma function P(k, mu), computed in log space (math.Lgamma)
// by its series when mu < k+1 — the case of small p-values, which keep
// their full relative precision — and as 1 − Q(k, mu) by a continued
// fraction otherwise.
func PoissonUpperTail(k int, mu float64) float64 {
	switch {
	case math.IsNaN(mu) || mu < 0:
		return math.NaN()
	case k <= 0:
		return 1
	case mu == 0:
		return 0
	case math.IsInf(mu, 1):
		return 1
	}
	a := float64(k)
	lg, _ := math.Lgamma(a)
	logPrefix := a*math.Log(mu) - mu - lg // log(mu^a e^-mu / Γ(a))
	if mu < a+1 {
		// P(a, x) = x^a e^-x / Γ(a+1) · Σ_n x^n / ((a+1)…(a+n))
		term, sum := 1/a, 1/a
		for n := 1; n < 1_000_000; n++ {
			term *= mu / (a + float64(n))
			sum += term
			if term < sum*1e-17 {
				break
			}
		}
		return min(1, math.Exp(logPrefix+math.Log(sum)))
	}
	// Q(a, x) by the continued fraction of Numerical Recipes (gcf), with
	// modified Lentz's method.
	const tiny = 1e-300
	b := mu + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1_000_000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	q := math.Exp(logPrefix) * h
	return max(0, 1-q)
}
