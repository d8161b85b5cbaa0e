package connsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/connsync"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestSyncMisbehavingConnector: a connector that crashes mid-stream, hangs
// or answers the handshake with junk ends its run as failed with the
// reason; the batch applied before stays whole, and a re-run with a
// well-behaved connector converges (no duplicates).
func TestSyncMisbehavingConnector(t *testing.T) {
	t.Parallel()
	bin := build(t, "bad")
	for _, tc := range []struct{ mode, reason string }{
		{"crash", "ended unexpectedly"},
		{"hang", "did not answer in time"},
		{"garbage", "could not be started"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := postgrestest.MustOpenDB(t, postgres.Options{})
			ten := mustTenant(t, db, "BAD")
			inst := &cmdb.ConnectorInstance{AuthorityID: ten.auth.ID, Name: "bad", Plugin: "bad", BinaryPath: bin, BinarySHA256: sha(t, bin)}
			must(t, db.CreateConnector(ctx, admin, inst, nil))
			env := func(mode string) connsync.Options {
				return connsync.Options{Store: db, BatchSize: 2, Plugin: connector.Options{StallTimeout: time.Second,
					StartTimeout: 5 * time.Second, Env: []string{"BAD_MODE=" + mode, "BAD_RECORDS=7"}}}
			}
			e := connsync.New(env(tc.mode))
			defer e.Close()
			run, err := e.Run(ctx, admin, inst, connsync.RunOptions{})
			must(t, err)
			if run.Status != cmdb.RunFailed || !strings.Contains(run.Failure, tc.reason) {
				t.Fatalf("run = %s %q, want failed: %s", run.Status, run.Failure, tc.reason)
			}
			applied := countCIs(t, db, ten.auth.ID)
			if want := map[bool]int{true: 0, false: 2}[tc.mode == "garbage"]; applied != want {
				t.Fatalf("%d CIs after the failed run, want the first batch whole (%d)", applied, want)
			}
			ok := connsync.New(env("ok"))
			defer ok.Close()
			again, err := ok.Run(ctx, admin, inst, connsync.RunOptions{})
			must(t, err)
			if again.Status != cmdb.RunSucceeded || countCIs(t, db, ten.auth.ID) != 7 || again.Created != 7-applied || again.Unchanged != applied {
				t.Fatalf("re-run = %s %+v, %d CIs (%s)", again.Status, again.RunCounters, countCIs(t, db, ten.auth.ID), again.Failure)
			}
		})
	}
}

// endless is an in-process connector that delivers records until it is
// stopped, and a configuration check that fails on demand.
type endless struct {
	connector.NoPush
	batches atomic.Int64
}

func (*endless) Describe(context.Context) (connector.Description, error) {
	return connector.Description{Name: "endless", Version: "1", ConfigSchema: []byte(`{}`)}, nil
}

func (*endless) Check(_ context.Context, cfg connector.Config) (connector.CheckResult, error) {
	if string(cfg.Settings) == `{"broken": true}` {
		return connector.CheckResult{OK: false, Message: "Die Datei fehlt.",
			Problems: []connector.Problem{{Field: "path", Rule: "required", Message: "Pfad fehlt."}}}, nil
	}
	if cfg.Secrets["token"].Reveal() != "geheim" {
		return connector.CheckResult{OK: false, Message: "Token falsch."}, nil
	}
	return connector.CheckResult{OK: true, Message: "ok"}, nil
}

func (c *endless) Pull(ctx context.Context, cfg connector.Config, emit func([]connector.Record) error) error {
	if string(cfg.Settings) == `{"broken": true}` {
		return errors.New("keine Datei")
	}
	for i := 0; i < 1_000_000; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.batches.Add(1)
		if err := emit([]connector.Record{{SourceKey: fmt.Sprint("e-", i), ClassHint: "Tablet",
			Identifiers: connector.Identifiers{Serial: fmt.Sprint("TAB", i)}}}); err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// TestSyncCancelInProcess runs a connector in-process over go-plugin's
// gRPC test connection: secrets reach it, progress is reported while the
// run lasts, a cancel stops it between batches, and a failing Check ends
// the run with the connector's problems in the log.
func TestSyncCancelInProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	ten := mustTenant(t, db, "INP")
	impl := &endless{}
	inst := &cmdb.ConnectorInstance{AuthorityID: ten.auth.ID, Name: "endlos", Plugin: "endless", BinaryPath: "/nowhere",
		BinarySHA256: strings.Repeat("00", 32)}
	must(t, db.CreateConnector(ctx, admin, inst, map[string]string{"token": "geheim"}))
	var progress atomic.Int64
	e := connsync.New(connsync.Options{Store: db, BatchSize: 10,
		Launch: func(context.Context, *cmdb.ConnectorInstance) (connector.Connector, func(), error) {
			return connector.InProcess(t, impl), func() {}, nil
		},
		Progress: func(r *cmdb.ConnectorRun) {
			if progress.Add(1) == 2 {
				must(t, db.CancelConnectorRun(ctx, admin, r.ID))
			}
		}})
	defer e.Close()
	run, err := e.Run(ctx, admin, inst, connsync.RunOptions{})
	must(t, err)
	if run.Status != cmdb.RunCancelled || run.Seen == 0 || impl.batches.Load() >= 1_000_000 {
		t.Fatalf("cancelled run = %s %+v (%s)", run.Status, run.RunCounters, run.Failure)
	}
	got, err := db.FindConnectorRun(ctx, admin, run.ID)
	must(t, err)
	if got.Status != cmdb.RunCancelled || !got.CancelRequested {
		t.Fatalf("stored run = %+v", got)
	}

	settings := json.RawMessage(`{"broken": true}`)
	_, err = db.UpdateConnector(ctx, admin, inst.ID, cmdb.ConnectorUpdate{Settings: &settings})
	must(t, err)
	inst, _ = db.FindConnectorByID(ctx, admin, inst.ID)
	run, err = e.Run(ctx, admin, inst, connsync.RunOptions{})
	must(t, err)
	if run.Status != cmdb.RunFailed || !strings.Contains(run.Failure, "Die Datei fehlt.") || len(run.ErrorList) != 1 ||
		run.ErrorList[0].Field != "path" || run.ErrorList[0].Rule != "required" {
		t.Fatalf("run with a failing check = %s %q %+v", run.Status, run.Failure, run.ErrorList)
	}
}
