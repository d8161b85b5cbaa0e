package connsync_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/connsync"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// feed is an in-process pull-only connector: it announces total (if set)
// and hands over its records in batches of batch (default all at once).
type feed struct {
	connector.NoPush
	mu    sync.Mutex
	recs  []connector.Record
	total int
	batch int
}

func (*feed) Describe(context.Context) (connector.Description, error) {
	return connector.Description{Name: "feed", Version: "1", ConfigSchema: []byte(`{}`), Capabilities: []connector.Capability{connector.CapPull}}, nil
}

func (*feed) Check(context.Context, connector.Config) (connector.CheckResult, error) {
	return connector.CheckResult{OK: true}, nil
}

func (f *feed) Pull(ctx context.Context, _ connector.Config, emit func([]connector.Record) error) error {
	f.mu.Lock()
	recs, total, size := append([]connector.Record(nil), f.recs...), f.total, f.batch
	f.mu.Unlock()
	connector.ExpectTotal(ctx, total)
	if size <= 0 {
		size = max(len(recs), 1)
	}
	for len(recs) > 0 {
		n := min(size, len(recs))
		if err := emit(recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

func (f *feed) set(recs ...connector.Record) {
	f.mu.Lock()
	f.recs = recs
	f.mu.Unlock()
}

// countingStore counts the records that reach reconcile (SyncWriter.Apply).
type countingStore struct {
	*postgres.DB
	applied atomic.Int64
}

func (s *countingStore) BeginSync(ctx context.Context, sc cmdb.Scope, inst *cmdb.ConnectorInstance, dryRun bool) (cmdb.SyncWriter, error) {
	w, err := s.DB.BeginSync(ctx, sc, inst, dryRun)
	if err != nil {
		return nil, err
	}
	return &countingWriter{SyncWriter: w, n: &s.applied}, nil
}

type countingWriter struct {
	cmdb.SyncWriter
	n *atomic.Int64
}

func (w *countingWriter) Apply(ctx context.Context, items []cmdb.SyncItem) ([]cmdb.SyncOutcome, error) {
	w.n.Add(int64(len(items)))
	return w.SyncWriter.Apply(ctx, items)
}

// host is one tenant with an in-process connector instance and an engine
// with a settable clock.
type host struct {
	t     *testing.T
	db    *postgres.DB
	store *countingStore
	ten   *tenant
	src   *feed
	inst  *cmdb.ConnectorInstance
	e     *connsync.Engine
	now   atomic.Pointer[time.Time]
	mu    sync.Mutex
	seen  []float64 // run.Progress at each Progress call, the final one included
}

func newHost(t *testing.T, code string, inst cmdb.ConnectorInstance) *host {
	t.Helper()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	h := &host{t: t, db: db, store: &countingStore{DB: db}, ten: mustTenant(t, db, code), src: &feed{}}
	now := time.Now()
	h.now.Store(&now)
	inst.AuthorityID, inst.Plugin, inst.BinaryPath, inst.BinarySHA256 = h.ten.auth.ID, "feed", "/nowhere", fmt.Sprintf("%064d", 0)
	if inst.Name == "" {
		inst.Name = "quelle"
	}
	must(t, db.CreateConnector(context.Background(), admin, &inst, nil))
	h.inst = &inst
	h.e = connsync.New(connsync.Options{Store: h.store, Now: func() time.Time { return *h.now.Load() },
		Progress: func(r *cmdb.ConnectorRun) {
			h.mu.Lock()
			h.seen = append(h.seen, r.Progress)
			h.mu.Unlock()
		},
		Launch: func(context.Context, *cmdb.ConnectorInstance) (connector.Connector, func(), error) {
			return h.src, func() {}, nil
		}})
	t.Cleanup(h.e.Close)
	return h
}

// run syncs once and wants the run to succeed.
func (h *host) run() *cmdb.ConnectorRun {
	h.t.Helper()
	h.mu.Lock()
	h.seen = nil
	h.mu.Unlock()
	r, err := h.e.Run(context.Background(), admin, h.inst, connsync.RunOptions{})
	must(h.t, err)
	if r.Status != cmdb.RunSucceeded {
		h.t.Fatalf("run = %s %+v (%s) %+v", r.Status, r.RunCounters, r.Failure, r.ErrorList)
	}
	return r
}

func (h *host) ci(key string) *cmdb.CI {
	h.t.Helper()
	rep, err := h.db.ConnectorReplica(context.Background(), admin, h.inst.ID)
	must(h.t, err)
	r := rep[key]
	if r == nil || r.CIID == 0 {
		h.t.Fatalf("record %s has no CI: %+v", key, r)
	}
	ci, err := h.db.FindCIByID(context.Background(), admin, r.CIID)
	must(h.t, err)
	return ci
}

func laptops(n int) []connector.Record {
	recs := make([]connector.Record, n)
	for i := range recs {
		recs[i] = connector.Record{SourceKey: fmt.Sprintf("K-%04d", i), ClassHint: "Laptop",
			Identifiers: connector.Identifiers{Serial: fmt.Sprintf("FEED%04d", i)}}
	}
	return recs
}

// TestSyncFirstRunProgress: a first run has no replica to measure by; the
// total the connector announces gives a percentage between 0 and 100
// while the run lasts, and the end is 100.
func TestSyncFirstRunProgress(t *testing.T) {
	t.Parallel()
	h := newHost(t, "FRP", cmdb.ConnectorInstance{})
	h.src.set(laptops(1000)...)
	h.src.total, h.src.batch = 1000, 500
	r := h.run()
	h.mu.Lock()
	seen := append([]float64(nil), h.seen...)
	h.mu.Unlock()
	if r.Expected != 1000 || r.Progress != 100 || len(seen) < 2 {
		t.Fatalf("run expected %d, progress %v; progress seen %v", r.Expected, r.Progress, seen)
	}
	if mid := seen[0]; mid <= 0 || mid >= 100 {
		t.Errorf("progress during the first run = %v, want between 0 and 100 (seen %v)", mid, seen)
	}
}
