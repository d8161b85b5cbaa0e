package main

import (
	"context"
	"github.com/schulit/cmdb/server/bench/ingestbench"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/agentdoor/loadgen"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// benchMain returns a Main for a bench run with captured output.
func benchMain() (*Main, *syncbuf.Buffer, *syncbuf.Buffer) {
	m := NewMain()
	out, logs := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	m.Stdout, m.Stderr = out, logs
	m.Config.LogLevel, m.Config.LogFormat = "warn", "text"
	return m, out, logs
}

// TestBenchIngest runs a tiny self-contained bench: private PostgreSQL,
// in-process server, enrolment, load, verification. No timing assertions.
func TestBenchIngest(t *testing.T) {
	t.Parallel()
	m, out, logs := benchMain()
	res, lost, err := m.benchIngest(context.Background(), ingestbench.Options{Agents: 50, Duration: 3 * time.Second, Rate: 0.5, Concurrency: 8})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, logs.String())
	}
	if res.Enrolled != 50 || res.Errors != 0 || res.RateLimited != 0 || lost != 0 || res.Acked == 0 {
		t.Errorf("enrolled %d, errors %d, rate-limited %d, lost %d, acked %d; want 50, 0, 0, 0, >0",
			res.Enrolled, res.Errors, res.RateLimited, lost, res.Acked)
	}
	if len(res.AckedSeq) != 50 {
		t.Errorf("acked seqs of %d devices, want 50", len(res.AckedSeq))
	}
	for _, want := range []string{"ingest: ", "enrolled 50", "lost: 0 (every acknowledged report is in the database)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if m.Serving() || m.db != nil || m.cluster != nil {
		t.Error("the bench left the server or the database running")
	}
}

// TestBenchIngestVerify runs the bench against a given database and then
// checks that Verify notices reports that are not there.
func TestBenchIngestVerify(t *testing.T) {
	t.Parallel()
	url := postgrestest.NewDatabase(t)
	m, out, logs := benchMain()
	m.Config.DatabaseURL, m.Config.DataDir = cmdb.Secret(url), sharedDataDir(t)
	res, lost, err := m.benchIngest(context.Background(), ingestbench.Options{Agents: 10, Duration: time.Second, Rate: 1, Concurrency: 4})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, logs.String())
	} else if res.Enrolled != 10 || lost != 0 || len(res.AckedSeq) != 10 {
		t.Fatalf("enrolled %d, lost %d, acked seqs of %d devices", res.Enrolled, lost, len(res.AckedSeq))
	}
	db, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ahead := map[string]uint64{}
	n := 0
	for id, seq := range res.AckedSeq {
		if n++; n <= 3 {
			ahead[id] = seq + 1 // acknowledged but (as if) not committed
		} else {
			ahead[id] = seq
		}
	}
	ahead["00000000-0000-4000-8000-000000000001"] = 1 // not in the database at all
	if lost, err := loadgen.Verify(context.Background(), db.SQL(), ahead); err != nil || lost != 4 {
		t.Errorf("Verify = %d, %v; want 4 lost", lost, err)
	}
}
