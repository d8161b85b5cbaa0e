package bench

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

func TestRun(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			db := postgrestest.MustOpenDB(t, postgres.Options{})
			var out bytes.Buffer
			opts := Options{Devices: 500, Batch: 100, Rounds: 1, Workers: workers, Out: &out}
			res, err := Run(context.Background(), db, opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + out.String())
			newDevices := opts.Rounds * newPerRound(opts.Devices)
			if res.Observations != opts.Rounds*opts.Devices {
				t.Errorf("observations = %d, want %d", res.Observations, opts.Rounds*opts.Devices)
			}
			if res.Created+res.Updated+res.Unchanged != res.Observations {
				t.Errorf("created %d + updated %d + unchanged %d != observations %d", res.Created, res.Updated, res.Unchanged, res.Observations)
			}
			if res.Created != newDevices {
				t.Errorf("created = %d, want %d new devices", res.Created, newDevices)
			}
			if res.Updated != opts.Rounds*changedPerRound(opts.Devices) {
				t.Errorf("updated = %d, want %d", res.Updated, opts.Rounds*changedPerRound(opts.Devices))
			}
			if res.Updated == 0 || res.Unchanged == 0 {
				t.Errorf("updated = %d, unchanged = %d, want both > 0", res.Updated, res.Unchanged)
			}
			if res.Unexpected != 0 {
				t.Errorf("unexpected outcomes = %d", res.Unexpected)
			}
			if res.Duration <= 0 || res.PerSecond <= 0 || res.InitialLoadPerSecond <= 0 {
				t.Errorf("figures = %+v", res)
			}
			var cis int
			if err := db.SQL().Get(&cis, `SELECT count(*) FROM cis WHERE merged_into IS NULL`); err != nil {
				t.Fatal(err)
			}
			if want := opts.Devices + newDevices; cis != want {
				t.Errorf("CIs = %d, want %d", cis, want)
			}
			var dups int
			if err := db.SQL().Get(&dups, `SELECT count(*) FROM duplicate_candidates`); err != nil {
				t.Fatal(err)
			}
			if dups != 0 {
				t.Errorf("duplicate candidates = %d, want 0", dups)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 2+opts.Rounds || !strings.HasPrefix(lines[len(lines)-1], "reconcile: 500 observations in ") {
				t.Errorf("report:\n%s", out.String())
			}
		})
	}
}

// TestWorkloadDeterministic: the same seed gives the same observations.
func TestWorkloadDeterministic(t *testing.T) {
	tn := &tenant{Authority: &cmdb.Authority{ID: 1}}
	for s := range schoolsPerAuthority {
		tn.Schools = append(tn.Schools, &cmdb.School{ID: int64(s + 1), Code: "S"})
		var rooms []*cmdb.Room
		for r := range roomsPerSchool {
			rooms = append(rooms, &cmdb.Room{ID: int64(100*s + r)})
		}
		tn.Rooms = append(tn.Rooms, rooms)
	}
	gen := func() []cmdb.Observation {
		w := newWorkload(tn, 1)
		obs, _ := w.initial(300)
		more, _ := w.round(300)
		return append(obs, more...)
	}
	a, b := gen(), gen()
	for i := range a {
		if err := a[i].Validate(); err != nil {
			t.Fatalf("observation %d: %v", i, err)
		}
		if a[i].SourceKey != b[i].SourceKey || a[i].Serial != b[i].Serial || a[i].Hostname != b[i].Hostname ||
			a[i].Attributes["os_version"] != b[i].Attributes["os_version"] {
			t.Fatalf("observation %d differs: %+v vs %+v", i, a[i], b[i])
		}
	}
}

// BenchmarkReconcile reconciles b.N batches of 1000 observations (90%
// unchanged, 8% changed, 2% new) against 5000 loaded devices.
func BenchmarkReconcile(b *testing.B) {
	const devices, size = 5000, 1000
	ctx := context.Background()
	db := postgrestest.MustOpenDB(b, postgres.Options{})
	tn, err := seedTenant(ctx, db, "")
	if err != nil {
		b.Fatal(err)
	}
	w := newWorkload(tn, 1)
	obs, exp := w.initial(devices)
	if _, err := reconcileAll(ctx, db, split(obs, exp, size), 1); err != nil {
		b.Fatal(err)
	}
	var n int
	var dur time.Duration
	for b.Loop() {
		b.StopTimer()
		obs, _ := w.round(size)
		b.StartTimer()
		start := time.Now()
		if _, err := db.Reconcile(ctx, scope, obs); err != nil {
			b.Fatal(err)
		}
		dur += time.Since(start)
		n += len(obs)
	}
	b.ReportMetric(float64(n)/dur.Seconds(), "obs/s")
}
