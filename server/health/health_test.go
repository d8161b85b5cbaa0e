package health_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/health"
)

func pct(f float64) *float64 { return &f }

// supply builds a supply row; percent < 0 means no percentage.
func supply(index int, desc, state string, percent float64) cmdb.Supply {
	s := cmdb.Supply{Index: index, Description: desc, Type: "toner", Unit: "percent", State: state}
	if percent >= 0 {
		s.Percent = pct(percent)
	}
	return s
}

func toner(index int, desc string, percent float64) cmdb.Supply {
	return supply(index, desc, cmdb.SupplyOK, percent)
}

// up is a poll that got an answer, with these supplies and error bits.
func up(supplies []cmdb.Supply, errs ...string) *cmdb.PollResult {
	return &cmdb.PollResult{Target: "10.0.0.9", Reachable: true, Supplies: supplies, Errors: errs}
}

func down() *cmdb.PollResult { return &cmdb.PollResult{Target: "10.0.0.9"} }

var (
	ok    = up(nil)
	jam   = up(nil, "jammed")
	black = func(p float64) *cmdb.PollResult { return up([]cmdb.Supply{toner(1, "Black Toner", p)}) }
)

// step is one poll and the events it must cause, written "+kind subject"
// (opened) or "-kind subject" (cleared), comma-separated.
type step struct {
	poll *cmdb.PollResult
	want string
}

func format(events []cmdb.HealthEvent) string {
	var parts []string
	for _, e := range events {
		s := "-"
		if e.Open {
			s = "+"
		}
		s += string(e.Kind)
		if e.Subject != "" {
			s += " " + e.Subject
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func TestObserve(t *testing.T) {
	tests := []struct {
		name  string
		opts  health.Options
		steps []step
	}{
		{"debounce open and clear", health.Options{}, []step{
			{ok, ""}, {jam, ""}, {jam, "+jam"}, {jam, ""}, {ok, ""}, {ok, "-jam"}, {ok, ""},
		}},
		{"raise and clear at once", health.Options{Raise: 1, Clear: 1}, []step{
			{jam, "+jam"}, {ok, "-jam"}, {jam, "+jam"},
		}},
		{"longer windows", health.Options{Raise: 3, Clear: 4}, []step{
			{jam, ""}, {jam, ""}, {jam, "+jam"}, {ok, ""}, {ok, ""}, {ok, ""}, {ok, "-jam"},
		}},
		{"flapping never opens", health.Options{}, []step{
			{jam, ""}, {ok, ""}, {jam, ""}, {ok, ""}, {jam, ""}, {ok, ""},
		}},
		{"flapping never clears", health.Options{}, []step{
			{jam, ""}, {jam, "+jam"}, {ok, ""}, {jam, ""}, {ok, ""}, {jam, ""}, {ok, ""}, {ok, "-jam"},
		}},
		{"unreachable debounced", health.Options{}, []step{
			{down(), ""}, {ok, ""}, {down(), ""}, {down(), "+unreachable"}, {down(), ""}, {ok, ""}, {ok, "-unreachable"},
		}},
		{"unreachable freezes open conditions", health.Options{}, []step{
			{jam, ""}, {jam, "+jam"},
			{down(), ""}, {down(), "+unreachable"}, {down(), ""}, {down(), ""}, {down(), ""},
			{ok, ""}, {ok, "-jam, -unreachable"},
		}},
		{"unreachable freezes a clearing condition", health.Options{}, []step{
			{jam, ""}, {jam, "+jam"}, {ok, ""}, {down(), ""}, {ok, "-jam"},
		}},
		{"unreachable freezes a pending condition", health.Options{}, []step{
			{jam, ""}, {down(), ""}, {jam, "+jam"},
		}},
		{"every error bit", health.Options{Raise: 1}, []step{
			{up(nil, "jammed", "doorOpen", "noPaper", "offline", "serviceRequested"),
				"+jam, +door_open, +no_paper, +offline, +service_requested"},
		}},
		{"every projector part", health.Options{Raise: 1}, []step{
			{up(nil, "lampWarning", "filterError", "fanWarning", "temperatureError", "coverError", "otherWarning"),
				"+lamp, +filter, +fan, +temperature, +door_open, +other_error"},
		}},
		{"a projector warning turning error stays one condition", health.Options{}, []step{
			{up(nil, "lampWarning"), ""}, {up(nil, "lampError"), "+lamp"}, {up(nil, "lampError"), ""},
			{ok, ""}, {ok, "-lamp"},
		}},
		{"hint and unrelated bits raise nothing", health.Options{Raise: 1}, []step{
			{up(nil, "lowToner", "noToner", "lowPaper", "inputTrayMissing", "overduePreventMaint", "bogus"), ""},
		}},
		{"supply low, exactly at the threshold", health.Options{}, []step{
			{black(10), ""}, {black(10), "+supply_low #1 Black Toner"}, {black(10.5), ""}, {black(11), "-supply_low #1 Black Toner"},
		}},
		{"supply just above the threshold", health.Options{Raise: 1}, []step{
			{black(10.01), ""}, {black(100), ""},
		}},
		{"custom threshold", health.Options{Raise: 1, SupplyLowPercent: 25}, []step{
			{black(30), ""}, {black(25), "+supply_low #1 Black Toner"},
		}},
		{"low threshold switched off", health.Options{Raise: 1, SupplyLowPercent: -1}, []step{
			{black(0), ""}, {up([]cmdb.Supply{supply(1, "Black Toner", cmdb.SupplyEmpty, -1)}), "+supply_empty #1 Black Toner"},
		}},
		{"levels that are not numbers are never low", health.Options{Raise: 1}, []step{
			{up([]cmdb.Supply{
				supply(1, "Black", cmdb.SupplySomeRemaining, -1),
				supply(2, "Cyan", cmdb.SupplyUnknown, -1),
				supply(3, "Magenta", cmdb.SupplyOther, -1),
				// A poller bug that left a percentage next to a non-number state.
				supply(4, "Yellow", cmdb.SupplyUnknown, 0),
				// Percent unknown for a numeric level (max unknown).
				supply(5, "Drum", cmdb.SupplyOK, -1),
			}), ""},
		}},
		{"empty wins over low", health.Options{}, []step{
			{up([]cmdb.Supply{supply(1, "Black", cmdb.SupplyEmpty, 0)}), ""},
			{up([]cmdb.Supply{supply(1, "Black", cmdb.SupplyEmpty, 0)}), "+supply_empty #1 Black"},
		}},
		{"low turns empty, windows aligned", health.Options{}, []step{
			{black(5), ""}, {black(5), "+supply_low #1 Black Toner"},
			{up([]cmdb.Supply{supply(1, "Black Toner", cmdb.SupplyEmpty, -1)}), ""},
			{up([]cmdb.Supply{supply(1, "Black Toner", cmdb.SupplyEmpty, -1)}), "-supply_low #1 Black Toner, +supply_empty #1 Black Toner"},
			{black(100), ""},
			{black(100), "-supply_empty #1 Black Toner"},
		}},
		{"low turns empty, empty supersedes", health.Options{Raise: 1, Clear: 3}, []step{
			{black(5), "+supply_low #1 Black Toner"},
			{up([]cmdb.Supply{supply(1, "Black Toner", cmdb.SupplyEmpty, -1)}), "-supply_low #1 Black Toner, +supply_empty #1 Black Toner"},
			{up([]cmdb.Supply{supply(1, "Black Toner", cmdb.SupplyEmpty, -1)}), ""},
			{black(4), "-supply_empty #1 Black Toner, +supply_low #1 Black Toner"},
			{black(4), ""}, {black(4), ""},
		}},
		{"supplies are independent", health.Options{}, []step{
			{up([]cmdb.Supply{toner(1, "Black", 5), toner(2, "Cyan", 50), toner(3, "Magenta", 3)}), ""},
			{up([]cmdb.Supply{toner(1, "Black", 5), toner(2, "Cyan", 8), toner(3, "Magenta", 3)}), "+supply_low #1 Black, +supply_low #3 Magenta"},
			{up([]cmdb.Supply{toner(1, "Black", 100), toner(2, "Cyan", 8), toner(3, "Magenta", 3)}), "+supply_low #2 Cyan"},
			{up([]cmdb.Supply{toner(1, "Black", 100), toner(2, "Cyan", 8), toner(3, "Magenta", 3)}), "-supply_low #1 Black"},
		}},
		{"supply matched by index, not by name", health.Options{}, []step{
			{up([]cmdb.Supply{toner(1, "Black", 5)}), ""},
			{up([]cmdb.Supply{toner(1, "Black Toner Cartridge", 5)}), "+supply_low #1 Black"},
		}},
		{"supply disappears from the table", health.Options{}, []step{
			{black(5), ""}, {black(5), "+supply_low #1 Black Toner"}, {ok, ""}, {ok, "-supply_low #1 Black Toner"},
		}},
		{"nil poll changes nothing", health.Options{}, []step{
			{jam, ""}, {nil, ""}, {jam, "+jam"},
		}},
	}
	for _, tt := range tests {
		// Run each case twice: with one tracker, and with the state going
		// through JSON between polls, as the server keeps it in the database.
		for _, viaJSON := range []bool{false, true} {
			name := tt.name
			if viaJSON {
				name += " (state via JSON)"
			}
			t.Run(name, func(t *testing.T) {
				tr := health.NewTracker(tt.opts)
				at := time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)
				for i, s := range tt.steps {
					if viaJSON {
						b, err := json.Marshal(tr)
						if err != nil {
							t.Fatal(err)
						}
						tr = health.NewTracker(tt.opts)
						if err := json.Unmarshal(b, tr); err != nil {
							t.Fatal(err)
						}
					}
					at = at.Add(5 * time.Minute)
					events := tr.Observe(s.poll, at)
					if got := format(events); got != s.want {
						t.Fatalf("poll %d: events %q, want %q", i+1, got, s.want)
					}
					for _, e := range events {
						if !e.At.Equal(at) {
							t.Errorf("poll %d: %s at %v, want %v", i+1, e.Kind, e.At, at)
						}
					}
				}
			})
		}
	}
}

func TestObserveDetail(t *testing.T) {
	tr := health.NewTracker(health.Options{Raise: 1, Clear: 1})
	now := time.Now()
	got := tr.Observe(up([]cmdb.Supply{toner(2, "Cyan", 7.6), supply(3, "Waste", cmdb.SupplyEmpty, -1)}, "doorOpen"), now)
	want := []cmdb.HealthEvent{
		{Kind: cmdb.HealthSupplyLow, Subject: "#2 Cyan", Open: true, At: now, Detail: "8% left"},
		{Kind: cmdb.HealthSupplyEmpty, Subject: "#3 Waste", Open: true, At: now, Detail: "empty"},
		{Kind: cmdb.HealthDoorOpen, Open: true, At: now, Detail: "a door or cover is open"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Observe =\n%+v\nwant\n%+v", got, want)
	}
	if got := tr.Observe(down(), now); len(got) != 1 || got[0].Kind != cmdb.HealthUnreachable || got[0].Detail == "" {
		t.Errorf("Observe(down) = %+v", got)
	}

	// A projector part's detail says whether it warns or fails, also when
	// the condition was pending in an earlier poll with the other.
	tr = health.NewTracker(health.Options{})
	tr.Observe(up(nil, "filterWarning", "lampWarning"), now)
	got = tr.Observe(up(nil, "filterWarning", "lampError"), now)
	want = []cmdb.HealthEvent{
		{Kind: cmdb.HealthLamp, Open: true, At: now, Detail: "lamp error"},
		{Kind: cmdb.HealthFilter, Open: true, At: now, Detail: "filter warning: clean or replace the filter"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("projector Observe =\n%+v\nwant\n%+v", got, want)
	}
}

// The zero Tracker works, with the default options, so state unmarshalled
// into a new(Tracker) is usable.
func TestZeroTracker(t *testing.T) {
	var tr health.Tracker
	steps := []step{{black(10), ""}, {black(10), "+supply_low #1 Black Toner"}, {ok, ""}, {ok, "-supply_low #1 Black Toner"}}
	for i, s := range steps {
		if got := format(tr.Observe(s.poll, time.Now())); got != s.want {
			t.Fatalf("poll %d: %q, want %q", i+1, got, s.want)
		}
	}
}

func TestStateJSON(t *testing.T) {
	tr := health.NewTracker(health.Options{})
	at := time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)
	tr.Observe(up([]cmdb.Supply{toner(1, "Black", 5)}, "jammed"), at)
	tr.Observe(up([]cmdb.Supply{toner(1, "Black", 5)}), at.Add(time.Minute))
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"conditions":[` +
		`{"kind":"supply_low","subject":"#1 Black","supply":1,"open":true,"streak":0,"since":"2025-03-10T08:01:00Z"}]}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
	var back health.Tracker
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Conditions, tr.Conditions) {
		t.Errorf("round trip: %+v, want %+v", back.Conditions, tr.Conditions)
	}
}

// Polling a device whose conditions are known allocates nothing; the
// server polls thousands of devices every few minutes.
func TestObserveSteadyStateAllocs(t *testing.T) {
	tr := health.NewTracker(health.Options{})
	poll := up([]cmdb.Supply{toner(1, "Black", 5), toner(2, "Cyan", 60), supply(3, "Waste", cmdb.SupplyEmpty, -1)}, "jammed", "lowToner")
	now := time.Now()
	tr.Observe(poll, now)
	tr.Observe(poll, now) // everything open now
	if n := testing.AllocsPerRun(100, func() {
		if ev := tr.Observe(poll, now); ev != nil {
			t.Fatalf("unexpected events %v", ev)
		}
	}); n != 0 {
		t.Errorf("Observe allocates %v times per steady-state poll, want 0", n)
	}
}

func BenchmarkObserve(b *testing.B) {
	tr := health.NewTracker(health.Options{})
	poll := up([]cmdb.Supply{toner(1, "Black", 5), toner(2, "Cyan", 60), toner(3, "Magenta", 70), toner(4, "Yellow", 80)}, "doorOpen")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		tr.Observe(poll, now)
	}
}

// TestUnreachableSaysWhy: the unreachable event's detail carries the
// poll's failure reason, so a ticket says "refused", not only "no answer".
func TestUnreachableSaysWhy(t *testing.T) {
	tr := health.NewTracker(health.Options{Raise: 1})
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	got := tr.Observe(&cmdb.PollResult{Target: "10.0.0.9", Failure: cmdb.PollRefused}, now)
	if len(got) != 1 || got[0].Kind != cmdb.HealthUnreachable || got[0].Detail != "no answer to the poll: refused" {
		t.Fatalf("Observe = %+v", got)
	}
}
