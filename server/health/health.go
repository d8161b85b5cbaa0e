// Package health turns successive polls of one device into debounced
// health events: a condition (a jam, an empty toner, an unreachable
// device, …) opens only after it was seen in Raise polls in a row, and
// clears only after it was absent in Clear polls in a row, so a flapping
// sensor produces no events at all.
//
// A Tracker holds the state of one device. It is a plain struct with JSON
// tags, so the server can store it between polls:
//
//	t := health.NewTracker(opts)
//	_ = json.Unmarshal(saved, t) // the state of earlier polls, if any
//	events := t.Observe(result, now)
//	saved, _ = json.Marshal(t)
package health

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// errorKinds maps the error names of a poll result that are device
// conditions to their kind: the hrPrinterDetectedErrorState bits of
// printers, and the PJLink error status of projectors. A kind may have
// several names; it holds while any of them is set, and the first set one
// in this order gives the detail, so errors come before warnings.
// lowToner and noToner are left out on purpose: they only hint at what
// the supplies table says precisely, and would duplicate the supply
// events.
var errorKinds = [...]struct {
	bit    string
	kind   cmdb.HealthKind
	detail string
}{
	{"jammed", cmdb.HealthJam, "paper jam"},
	{"doorOpen", cmdb.HealthDoorOpen, "a door or cover is open"},
	{"noPaper", cmdb.HealthNoPaper, "out of paper"},
	{"offline", cmdb.HealthOffline, "the device is offline"},
	{"serviceRequested", cmdb.HealthServiceRequested, "service requested"},
	{"lampError", cmdb.HealthLamp, "lamp error"},
	{"lampWarning", cmdb.HealthLamp, "lamp warning: its life is nearly over"},
	{"filterError", cmdb.HealthFilter, "filter error"},
	{"filterWarning", cmdb.HealthFilter, "filter warning: clean or replace the filter"},
	{"fanError", cmdb.HealthFan, "fan error"},
	{"fanWarning", cmdb.HealthFan, "fan warning"},
	{"temperatureError", cmdb.HealthTemperature, "temperature error"},
	{"temperatureWarning", cmdb.HealthTemperature, "temperature warning"},
	{"coverError", cmdb.HealthDoorOpen, "cover open"},
	{"coverWarning", cmdb.HealthDoorOpen, "cover warning"},
	{"otherError", cmdb.HealthOtherError, "projector error"},
	{"otherWarning", cmdb.HealthOtherError, "projector warning"},
}

// Options tune the debounce. Zero values mean the defaults.
type Options struct {
	// SupplyLowPercent: a supply at or below this percentage is low.
	// Default 10; a negative value turns supply_low off.
	SupplyLowPercent float64
	// Raise: polls in a row a condition must be seen before it opens.
	// Default 2; 1 opens at once.
	Raise int
	// Clear: polls in a row a condition must be absent before it clears.
	// Default 2; 1 clears at once.
	Clear int
}

func (o Options) withDefaults() Options {
	if o.SupplyLowPercent == 0 {
		o.SupplyLowPercent = 10
	}
	if o.Raise <= 0 {
		o.Raise = 2
	}
	if o.Clear <= 0 {
		o.Clear = 2
	}
	return o
}

// Tracker is the health state of one device. The zero value is ready to
// use with default options. Only Conditions is state; the options are not
// serialised, so restore state into a Tracker made by NewTracker.
//
// A Tracker is not safe for concurrent use.
type Tracker struct {
	// Conditions are the conditions seen recently, open or pending.
	Conditions []Condition `json:"conditions,omitempty"`

	opts Options
}

// Condition is one tracked condition of a device.
type Condition struct {
	Kind    cmdb.HealthKind `json:"kind"`
	Subject string          `json:"subject,omitempty"`
	// Supply is the supply index for supply conditions, 0 otherwise.
	// Supplies are matched by index, so a renamed supply keeps its state.
	Supply int `json:"supply,omitempty"`
	// Open is true once the condition has opened.
	Open bool `json:"open,omitempty"`
	// Streak counts polls in a row: with the condition present while it
	// is pending, without it while it is open.
	Streak int `json:"streak"`
	// Since is when the condition was first seen in the current streak
	// (pending) or when it opened (open).
	Since time.Time `json:"since,omitzero"`
}

// NewTracker returns an empty tracker using opts.
func NewTracker(opts Options) *Tracker {
	return &Tracker{opts: opts}
}

// Observe folds one poll into the state and returns the events it causes,
// nil when none. A nil result changes nothing.
//
// An unreachable device raises unreachable; its other conditions are
// frozen, neither raised nor cleared, until it answers again. A reachable
// device raises supply_empty for each supply in the state empty, else
// supply_low for each whose percentage is at most SupplyLowPercent
// (supplies whose level is not a number — other, unknown, some-remaining —
// are never low), jam, door_open, no_paper, offline and
// service_requested from the printer error bits, and lamp, filter, fan,
// temperature, door_open (cover) and other_error from a projector's
// PJLink error names (see errorKinds). A supply is never both
// low and empty: when one of the two opens, the other, if open, clears in
// the same call.
//
// Once a device's conditions are known, Observe does not allocate unless
// it returns events.
func (t *Tracker) Observe(r *cmdb.PollResult, now time.Time) []cmdb.HealthEvent {
	if r == nil {
		return nil
	}
	o := t.opts.withDefaults()
	var events []cmdb.HealthEvent

	if !r.Reachable {
		i := t.find(cmdb.HealthUnreachable, 0)
		if i < 0 {
			t.Conditions = append(t.Conditions, Condition{Kind: cmdb.HealthUnreachable, Since: now})
			i = len(t.Conditions) - 1
		}
		if e, ok := t.present(i, o, now); ok {
			e.Detail = "no answer to the poll"
			if r.Failure != "" {
				e.Detail += ": " + string(r.Failure)
			}
			events = append(events, e)
		}
		return events
	}

	// Conditions already tracked. Forgotten ones are marked with a
	// negative Streak and removed at the end, so indexes stay put.
	for i := range t.Conditions {
		c := &t.Conditions[i]
		if c.Streak < 0 {
			continue // superseded earlier in this poll
		}
		s, ok := holds(r, c.Kind, c.Supply, o)
		if !ok {
			if e, ok := t.absent(i, o, now); ok {
				events = append(events, e)
			}
			continue
		}
		if e, ok := t.present(i, o, now); ok {
			e.Detail = detail(r, c.Kind, s)
			events = t.opened(events, i, e)
		}
	}

	// Conditions seen for the first time.
	for si := range r.Supplies {
		s := &r.Supplies[si]
		kind := supplyKind(s, o)
		if kind == "" || t.find(kind, s.Index) >= 0 {
			continue
		}
		t.Conditions = append(t.Conditions, Condition{Kind: kind, Subject: supplySubject(s), Supply: s.Index, Since: now})
		if e, ok := t.present(len(t.Conditions)-1, o, now); ok {
			e.Detail = detail(r, kind, s)
			events = t.opened(events, len(t.Conditions)-1, e)
		}
	}
	for _, ek := range errorKinds {
		if !slices.Contains(r.Errors, ek.bit) || t.find(ek.kind, 0) >= 0 {
			continue
		}
		t.Conditions = append(t.Conditions, Condition{Kind: ek.kind, Since: now})
		if e, ok := t.present(len(t.Conditions)-1, o, now); ok {
			e.Detail = ek.detail
			events = append(events, e)
		}
	}

	t.Conditions = slices.DeleteFunc(t.Conditions, func(c Condition) bool { return c.Streak < 0 })
	return events
}

// present records that condition i holds in this poll and returns its
// open event, without Detail, if it opens now.
func (t *Tracker) present(i int, o Options, now time.Time) (cmdb.HealthEvent, bool) {
	c := &t.Conditions[i]
	if c.Open {
		c.Streak = 0
		return cmdb.HealthEvent{}, false
	}
	c.Streak++
	if c.Streak < o.Raise {
		return cmdb.HealthEvent{}, false
	}
	c.Open, c.Streak, c.Since = true, 0, now
	return cmdb.HealthEvent{Kind: c.Kind, Subject: c.Subject, Open: true, At: now}, true
}

// absent records that condition i does not hold in this poll and returns
// its clear event if it clears now. A pending condition is interrupted
// and forgotten; a cleared one too.
func (t *Tracker) absent(i int, o Options, now time.Time) (cmdb.HealthEvent, bool) {
	c := &t.Conditions[i]
	if !c.Open {
		c.Streak = -1
		return cmdb.HealthEvent{}, false
	}
	c.Streak++
	if c.Streak < o.Clear {
		return cmdb.HealthEvent{}, false
	}
	c.Streak = -1
	return cmdb.HealthEvent{Kind: c.Kind, Subject: c.Subject, Open: false, At: now}, true
}

// opened appends the open event e of condition i. When a supply
// condition opens, its sibling (low for empty, empty for low) is cleared
// first, if open, and forgotten: a supply is never low and empty at once.
func (t *Tracker) opened(events []cmdb.HealthEvent, i int, e cmdb.HealthEvent) []cmdb.HealthEvent {
	c := &t.Conditions[i]
	sibling := cmdb.HealthSupplyLow
	switch c.Kind {
	case cmdb.HealthSupplyLow:
		sibling = cmdb.HealthSupplyEmpty
	case cmdb.HealthSupplyEmpty:
	default:
		return append(events, e)
	}
	if j := t.find(sibling, c.Supply); j >= 0 {
		s := &t.Conditions[j]
		if s.Open {
			events = append(events, cmdb.HealthEvent{Kind: s.Kind, Subject: s.Subject, Open: false, At: e.At, Detail: "superseded by " + string(c.Kind)})
		}
		s.Open, s.Streak = false, -1
	}
	return append(events, e)
}

// find returns the index of the live condition (kind, supply), or -1.
func (t *Tracker) find(kind cmdb.HealthKind, supply int) int {
	for i := range t.Conditions {
		c := &t.Conditions[i]
		if c.Kind == kind && c.Supply == supply && c.Streak >= 0 {
			return i
		}
	}
	return -1
}

// holds reports whether condition (kind, supply) holds in r and, for a
// supply condition, the supply.
func holds(r *cmdb.PollResult, kind cmdb.HealthKind, supply int, o Options) (*cmdb.Supply, bool) {
	switch kind {
	case cmdb.HealthUnreachable:
		return nil, false // r is reachable here
	case cmdb.HealthSupplyLow, cmdb.HealthSupplyEmpty:
		for i := range r.Supplies {
			if s := &r.Supplies[i]; s.Index == supply && supplyKind(s, o) == kind {
				return s, true
			}
		}
		return nil, false
	}
	for _, ek := range errorKinds {
		if ek.kind == kind && slices.Contains(r.Errors, ek.bit) {
			return nil, true
		}
	}
	return nil, false // not set, or a kind this version does not know: let it clear
}

// supplyKind classifies a supply: empty, low or neither (""). Only a
// level that is a number (state ok) can be low.
func supplyKind(s *cmdb.Supply, o Options) cmdb.HealthKind {
	switch {
	case s.State == cmdb.SupplyEmpty:
		return cmdb.HealthSupplyEmpty
	case s.State == cmdb.SupplyOK && s.Percent != nil && *s.Percent <= o.SupplyLowPercent:
		return cmdb.HealthSupplyLow
	}
	return ""
}

// detail explains an opening condition of r; s is its supply, if any.
func detail(r *cmdb.PollResult, kind cmdb.HealthKind, s *cmdb.Supply) string {
	switch kind {
	case cmdb.HealthSupplyEmpty:
		return "empty"
	case cmdb.HealthSupplyLow:
		if s != nil && s.Percent != nil {
			return strconv.FormatFloat(*s.Percent, 'f', 0, 64) + "% left"
		}
		return "low"
	}
	for _, ek := range errorKinds {
		if ek.kind == kind && slices.Contains(r.Errors, ek.bit) {
			return ek.detail
		}
	}
	return ""
}

func supplySubject(s *cmdb.Supply) string {
	subject := "#" + strconv.Itoa(s.Index)
	if d := strings.TrimSpace(s.Description); d != "" {
		subject += " " + d
	}
	return subject
}
