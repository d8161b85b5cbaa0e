package cmdb

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// HealthKinds lists every health kind, in the order rules are shown.
var HealthKinds = []HealthKind{
	HealthSupplyEmpty, HealthSupplyLow, HealthJam, HealthNoPaper, HealthDoorOpen, HealthOffline, HealthUnreachable,
	HealthServiceRequested, HealthLamp, HealthFilter, HealthFan, HealthTemperature, HealthOtherError,
}

// MonitoringRule says what a health event of one kind does in one
// authority: whether it opens a ticket, for which group (ProviderID 0:
// the authority's own IT), at which support level, impact and urgency,
// and whether the recovery of the condition resolves the ticket.
type MonitoringRule struct {
	Kind        HealthKind `json:"kind"`
	OpensTicket bool       `json:"opens_ticket"`
	ProviderID  int64      `json:"provider_id,omitempty"`
	Level       int        `json:"level"`
	Impact      int        `json:"impact"`
	Urgency     int        `json:"urgency"`
	AutoResolve bool       `json:"auto_resolve"`
	// Default is true when the authority has no rule of its own for the
	// kind and the platform's default applies; read-only.
	Default bool `json:"default"`
}

// DefaultMonitoringRules are the rules of an authority that has none of
// its own for a kind. What a person at school fixes in a minute (paper,
// a door, a low supply) or what a filter warning asks for opens no
// ticket; an empty toner, a jam and broken hardware do. Unreachable opens
// none by default because devices switched off at night or in the
// holidays are unreachable too; offline (the device says so itself)
// opens one. Every recovery resolves its ticket.
var DefaultMonitoringRules = func() map[HealthKind]MonitoringRule {
	m := map[HealthKind]MonitoringRule{}
	for _, k := range HealthKinds {
		r := MonitoringRule{Kind: k, Level: 1, Impact: 3, Urgency: 2, AutoResolve: true, Default: true}
		switch k {
		case HealthSupplyEmpty, HealthJam, HealthOffline, HealthServiceRequested, HealthLamp, HealthFan, HealthTemperature, HealthOtherError:
			r.OpensTicket = true
		}
		m[k] = r
	}
	return m
}()

// ValidHealthKind reports whether k is a known health kind.
func ValidHealthKind(k HealthKind) bool { return slices.Contains(HealthKinds, k) }

// ValidateMonitoringRules checks a full set of rules as sent: every kind
// known and named at most once, levels 1–3, provider ids positive or 0.
// Errors name the field, e.g. rules[1].impact.
func ValidateMonitoringRules(rules []MonitoringRule) error {
	seen := map[HealthKind]bool{}
	for i, r := range rules {
		f := func(name string) string { return fmt.Sprintf("rules[%d].%s", i, name) }
		if !ValidHealthKind(r.Kind) {
			return Invalid(f("kind"), "must be one of %s, not %q", joinKinds(), r.Kind)
		}
		if seen[r.Kind] {
			return Invalid(f("kind"), "names %s twice", r.Kind)
		}
		seen[r.Kind] = true
		if r.ProviderID < 0 {
			return Invalid(f("provider_id"), "must be a provider id, or 0 for the authority's IT")
		}
		for _, lv := range []struct {
			name string
			v    int
		}{{"level", r.Level}, {"impact", r.Impact}, {"urgency", r.Urgency}} {
			if lv.v < 1 || lv.v > 3 {
				return Invalid(f(lv.name), "must be 1, 2 or 3, not %d", lv.v)
			}
		}
	}
	return nil
}

func joinKinds() string {
	s := make([]string, len(HealthKinds))
	for i, k := range HealthKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// MonitoringStore keeps the monitoring rules of the authorities.
type MonitoringStore interface {
	// FindMonitoringRules returns the rule of every kind, in HealthKinds
	// order, the default where the authority has none of its own;
	// ENOTFOUND unless the scope sees the whole authority.
	FindMonitoringRules(ctx context.Context, s Scope, authorityID int64) ([]MonitoringRule, error)
	// SetMonitoringRules replaces the authority's rules: the kinds named
	// take the given rule, the others the default. EINVALID naming the
	// field (rules[i].provider_id for a provider without a contract with
	// the authority), ENOTFOUND unless the scope sees the whole authority.
	SetMonitoringRules(ctx context.Context, s Scope, authorityID int64, rules []MonitoringRule) ([]MonitoringRule, error)
}

// HealthBatchSink is a HealthSink that also takes many events at once,
// e.g. a polling round's. HealthEvents returns one error per event (nil:
// taken), in the order given; events of one CI are handled in order.
type HealthBatchSink interface {
	HealthSink
	HealthEvents(ctx context.Context, events []HealthEvent) []error
}

// HealthSinks fans events out to several sinks, in order. An event is
// taken when every sink took it; a sink's error stops the event there
// (the later sinks do not see it) and is returned, so the poller offers
// it again. Sinks should therefore treat repeats as updates.
type HealthSinks []HealthSink

var _ HealthBatchSink = HealthSinks(nil)

// HealthEvents offers the events to each sink in turn, as a batch to
// those that take batches; an event a sink refused is not offered to the
// later ones.
func (ss HealthSinks) HealthEvents(ctx context.Context, events []HealthEvent) []error {
	errs := make([]error, len(events))
	for _, s := range ss {
		var todo []int
		for i := range events {
			if errs[i] == nil {
				todo = append(todo, i)
			}
		}
		if bs, ok := s.(HealthBatchSink); ok {
			batch := make([]HealthEvent, len(todo))
			for j, i := range todo {
				batch[j] = events[i]
			}
			for j, err := range bs.HealthEvents(ctx, batch) {
				errs[todo[j]] = err
			}
			continue
		}
		failed := map[int64]error{} // a CI's later events wait for its earlier ones
		for _, i := range todo {
			if err, ok := failed[events[i].CIID]; ok {
				errs[i] = err
			} else if errs[i] = s.HealthEvent(ctx, events[i]); errs[i] != nil {
				failed[events[i].CIID] = errs[i]
			}
		}
	}
	return errs
}

// HealthEvent offers e to each sink in turn.
func (ss HealthSinks) HealthEvent(ctx context.Context, e HealthEvent) error {
	for _, s := range ss {
		if err := s.HealthEvent(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// isToner reports whether a supply subject ("#1 Black Toner") names
// toner or ink rather than a drum, a fuser or a waste box.
func isToner(subject string) bool {
	s := strings.ToLower(subject)
	return strings.Contains(s, "toner") || strings.Contains(s, "ink") || strings.Contains(s, "tinte") ||
		strings.Contains(s, "cartridge") || strings.Contains(s, "patrone")
}

// MonitoringTitle is the German title of a ticket monitoring opens for a
// condition of kind on the CI named ciName, e.g. "Toner leer: Drucker
// Lehrerzimmer".
func MonitoringTitle(kind HealthKind, subject, ciName string) string {
	var what string
	switch kind {
	case HealthSupplyEmpty:
		what = "Verbrauchsmaterial leer"
		if isToner(subject) {
			what = "Toner leer"
		}
	case HealthSupplyLow:
		what = "Verbrauchsmaterial fast leer"
		if isToner(subject) {
			what = "Toner fast leer"
		}
	case HealthJam:
		what = "Papierstau"
	case HealthDoorOpen:
		what = "Klappe offen"
	case HealthNoPaper:
		what = "Papier leer"
	case HealthOffline:
		what = "Gerät offline"
	case HealthServiceRequested:
		what = "Wartung angefordert"
	case HealthUnreachable:
		what = "Gerät nicht erreichbar"
	case HealthLamp:
		what = "Lampenfehler"
	case HealthFilter:
		what = "Filterwarnung"
	case HealthFan:
		what = "Lüfterfehler"
	case HealthTemperature:
		what = "Temperaturfehler"
	default:
		what = "Gerätefehler"
	}
	if strings.TrimSpace(ciName) == "" {
		return what
	}
	title := what + ": " + strings.TrimSpace(ciName)
	if r := []rune(title); len(r) > 200 {
		title = string(r[:200])
	}
	return title
}

// MonitoringCategory is the name of the ticket category (of the CI's
// class) a condition of kind falls into; the store falls back to
// "Sonstiges" when the class has no category of that name.
func MonitoringCategory(kind HealthKind, class, subject string) string {
	printer := class == "printer" || class == "mfp"
	switch {
	case printer && (kind == HealthSupplyEmpty || kind == HealthSupplyLow) && isToner(subject):
		return "Kein Toner"
	case printer && kind == HealthJam:
		return "Papierstau"
	case printer && (kind == HealthOffline || kind == HealthUnreachable || kind == HealthNoPaper || kind == HealthServiceRequested):
		return "Druckt nicht"
	case class == "projector" && kind == HealthLamp:
		return "Lampe"
	}
	return "Sonstiges"
}

var digits = regexp.MustCompile(`[0-9]+([.,][0-9]+)?`)

// MaterialDetail is the part of an event's detail that matters when
// deciding whether a repeat is news: numbers are left out, so "8% left"
// and "5% left" are the same, "lamp warning" and "lamp error" are not.
func MaterialDetail(detail string) string {
	return strings.TrimSpace(digits.ReplaceAllString(strings.ToLower(detail), "#"))
}
