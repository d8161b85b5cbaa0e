package cmdb

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// RepeatRule flags a CI as a replacement candidate when it had at least
// Threshold incidents in the last WindowDays days.
type RepeatRule struct {
	Threshold  int `json:"threshold"`
	WindowDays int `json:"window_days"`
}

// Defaults of the repeat-failure rule: 3 incidents in 365 days.
const (
	DefaultRepeatThreshold  = 3
	DefaultRepeatWindowDays = 365
)

// DefaultRepeatRule returns 3 incidents in 365 days.
func DefaultRepeatRule() RepeatRule {
	return RepeatRule{Threshold: DefaultRepeatThreshold, WindowDays: DefaultRepeatWindowDays}
}

// Validate returns an EINVALID error naming the field ("threshold",
// "window_days"), or nil: threshold 2–1000, window 1–3660 days.
func (r RepeatRule) Validate() error {
	if r.Threshold < 2 || r.Threshold > 1000 {
		return Invalid("threshold", "must be 2 to 1000 (got %d)", r.Threshold)
	}
	if r.WindowDays < 1 || r.WindowDays > 3660 {
		return Invalid("window_days", "must be 1 to 3660 days (got %d)", r.WindowDays)
	}
	return nil
}

// RepeatRules is an authority's repeat-failure rule with overrides per CI
// class.
type RepeatRules struct {
	Default RepeatRule            `json:"default"`
	ByClass map[string]RepeatRule `json:"by_class,omitempty"`
}

// For returns the rule of class: its override if there is one, else the
// default (DefaultRepeatRule when Default is zero).
func (r RepeatRules) For(class string) RepeatRule {
	if o, ok := r.ByClass[class]; ok {
		return o
	}
	if r.Default == (RepeatRule{}) {
		return DefaultRepeatRule()
	}
	return r.Default
}

// Validate checks the default (unless zero, meaning DefaultRepeatRule) and
// each override; the field reads "default.threshold" or
// "by_class.printer.window_days". Override classes must be known classes.
func (r RepeatRules) Validate() error {
	if r.Default != (RepeatRule{}) {
		if err := r.Default.Validate(); err != nil {
			return WithFieldPrefix(err, "default")
		}
	}
	classes := make([]string, 0, len(r.ByClass))
	for c := range r.ByClass {
		classes = append(classes, c)
	}
	slices.Sort(classes) // report the same error every time
	for _, c := range classes {
		if !slices.Contains(Classes, c) {
			return Invalid("by_class."+c, "%q is not a CI class", c)
		}
		if err := r.ByClass[c].Validate(); err != nil {
			return WithFieldPrefix(err, "by_class."+c)
		}
	}
	return nil
}

// RepeatTicket is what the repeat-failure rule needs of one ticket linked
// to the CI.
type RepeatTicket struct {
	ID       string
	Number   string // readable number, e.g. LKP-2026-00042
	Incident bool   // false for a service request, which never counts
	OpenedAt time.Time
	// MergedInto is the ID of the ticket this one was merged into as a
	// duplicate; "" when it was not merged.
	MergedInto string
}

// RepeatFailure is the outcome of the rule for one CI.
type RepeatFailure struct {
	Flagged bool `json:"flagged"`
	// Count is the number of distinct incidents in the window.
	Count int `json:"count"`
	// Tickets are the readable numbers of those incidents, oldest first:
	// the flag's reason.
	Tickets []string `json:"tickets"`
	// ClearsAt is when the flag clears unless another incident comes in
	// (zero when not flagged).
	ClearsAt time.Time `json:"clears_at,omitzero"`
}

// Reason returns the flag's reason as text, e.g. "3 incidents in 365 days:
// LKP-2026-00001, LKP-2026-00007, LKP-2026-00042"; "" when not flagged.
func (f RepeatFailure) Reason(rule RepeatRule) string {
	if !f.Flagged {
		return ""
	}
	s := fmt.Sprintf("%d incidents in %d days:", f.Count, rule.WindowDays)
	for i, n := range f.Tickets {
		if i > 0 {
			s += ","
		}
		s += " " + n
	}
	return s
}

// EvaluateRepeatFailure applies rule to the tickets of one CI at now. Only
// incidents count. Tickets merged as duplicates count once: a ticket and
// everything merged into it (transitively) form one incident, opened when
// its earliest member was opened and named by the number of the ticket
// they were merged into (or, if that one is not in tickets, the earliest
// member's number). An incident counts when it was opened in the window
// (now − WindowDays, now]; the CI is flagged when at least Threshold count,
// and the flag clears by itself once too few remain in the window. rule
// must be valid (see RepeatRule.Validate).
func EvaluateRepeatFailure(tickets []RepeatTicket, rule RepeatRule, now time.Time) RepeatFailure {
	byID := make(map[string]*RepeatTicket, len(tickets))
	for i := range tickets {
		if tickets[i].Incident && tickets[i].ID != "" {
			byID[tickets[i].ID] = &tickets[i]
		}
	}
	// root follows MergedInto to the ticket that absorbed the duplicates.
	// A merge cycle (bad data) ends at its smallest ID, whichever ticket
	// of it the walk starts from.
	root := func(t *RepeatTicket) string {
		id := t.ID
		var path []string
		for {
			if i := slices.Index(path, id); i >= 0 {
				return slices.Min(path[i:])
			}
			cur, ok := byID[id]
			if !ok || cur.MergedInto == "" {
				return id
			}
			path = append(path, id)
			id = cur.MergedInto
		}
	}
	type group struct {
		opened time.Time
		number string // earliest member's
		named  bool   // number is the root's own
	}
	groups := map[string]*group{}
	for i := range tickets {
		t := &tickets[i]
		if !t.Incident {
			continue
		}
		key := t.ID
		if key == "" {
			key = "number:" + t.Number // no ID: a ticket on its own
		} else {
			key = root(t)
		}
		g, ok := groups[key]
		if !ok {
			g = &group{opened: t.OpenedAt, number: t.Number}
			groups[key] = g
		} else if t.OpenedAt.Before(g.opened) {
			g.opened = t.OpenedAt
			if !g.named {
				g.number = t.Number
			}
		}
		if t.ID == key {
			g.number, g.named = t.Number, true
		}
	}
	from := now.AddDate(0, 0, -rule.WindowDays)
	var in []*group
	for _, g := range groups {
		if g.opened.After(from) && !g.opened.After(now) {
			in = append(in, g)
		}
	}
	slices.SortFunc(in, func(a, b *group) int {
		if c := a.opened.Compare(b.opened); c != 0 {
			return c
		}
		return cmp.Compare(a.number, b.number)
	})
	f := RepeatFailure{Count: len(in), Tickets: make([]string, len(in))}
	for i, g := range in {
		f.Tickets[i] = g.number
	}
	if rule.Threshold > 0 && len(in) >= rule.Threshold {
		f.Flagged = true
		// With no new incident, the flag holds while Threshold remain: it
		// clears when the (Count−Threshold+1)-th oldest leaves the window.
		f.ClearsAt = in[len(in)-rule.Threshold].opened.AddDate(0, 0, rule.WindowDays)
	}
	return f
}
