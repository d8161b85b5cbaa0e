package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestMetricsAPIAnswersOldRangesFromAggregates: after retention has run,
// a range older than the raw retention is answered hourly, with the
// aggregate's values, and a recent one raw.
func TestMetricsAPIAnswersOldRangesFromAggregates(t *testing.T) {
	t.Parallel()
	dbURL := postgrestest.NewDatabase(t)
	_, out, _ := runMain(t, "token", "create", "--admin", "--name", "test", "--db", dbURL)
	m, _, _ := runMain(t, "serve", "--listen", "127.0.0.1:0", "--db", dbURL)
	c := &client{t: t, base: "http://" + m.Addr(), token: strings.TrimSpace(out)}
	auth, _, room, _ := c.tenant("RET")
	ci := id(c.must(201, "POST", "/api/v1/cis", map[string]any{"authority_id": auth, "room_id": room, "class": "printer",
		"vendor": "Canon", "serial": "RET0001"}))

	now := time.Now().UTC()
	old := now.Add(-100 * 24 * time.Hour).Truncate(time.Hour)
	for i, v := range []float64{1000, 1010, 1020, 1030} {
		_, err := m.db.SQL().Exec(`INSERT INTO ci_metrics (ci_id, name, at, value) VALUES ($1, 'counter.pages', $2, $3)`,
			ci, old.Add(time.Duration(i)*15*time.Minute), v)
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := m.db.SQL().Exec(`INSERT INTO ci_metrics (ci_id, name, at, value) VALUES ($1, 'counter.pages', $2, 2000)`, ci, now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.db.RollupMetrics(context.Background()); err != nil {
		t.Fatal(err)
	}

	q := url.Values{"name": {"counter.pages"}, "from": {old.Add(-time.Hour).Format(time.RFC3339)}, "to": {old.Add(2 * time.Hour).Format(time.RFC3339)}}
	got := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/metrics?%s", ci, q.Encode()), nil)
	items := got["items"].([]any)
	if got["resolution"] != "hour" || len(items) != 1 {
		t.Fatalf("100 days back: %v", got)
	}
	it := items[0].(map[string]any)
	if it["value"] != 1015.0 || it["min"] != 1000.0 || it["max"] != 1030.0 || it["last"] != 1030.0 || it["count"] != 4.0 ||
		it["at"] != old.Format(time.RFC3339) {
		t.Errorf("hourly aggregate = %v", it)
	}
	got = c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/metrics?name=counter.pages", ci), nil)
	if got["resolution"] != "raw" || len(got["items"].([]any)) != 1 {
		t.Errorf("latest: %v", got)
	}
	if code, body := c.do("GET", fmt.Sprintf("/api/v1/cis/%d/metrics?from=yesterday", ci), nil); code != 400 ||
		body["error"].(map[string]any)["field"] != "from" {
		t.Errorf("from=yesterday: %d %v", code, body)
	}
}
