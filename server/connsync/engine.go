// Package connsync is the connector host: it runs an authority's
// connector instances — launches the pinned plugin binary, checks its
// configuration, pulls its records in batches, maps them onto
// observations and sends them through reconcile, the one door for CIs —
// and keeps the run log. The CLI, the API and the scheduler all run syncs
// through Engine.
package connsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/cmdb"
)

// Store is what the engine needs of the store.
type Store interface {
	cmdb.ConnectorStore
	FindSchools(ctx context.Context, s cmdb.Scope, f cmdb.TenantFilter) ([]*cmdb.School, error)
	FindBuildings(ctx context.Context, s cmdb.Scope, f cmdb.TenantFilter) ([]*cmdb.Building, error)
	FindRooms(ctx context.Context, s cmdb.Scope, f cmdb.TenantFilter) ([]*cmdb.Room, error)
	CreateBuilding(ctx context.Context, s cmdb.Scope, v *cmdb.Building) error
	CreateRoom(ctx context.Context, s cmdb.Scope, v *cmdb.Room) error
}

// Launcher starts an instance's connector; the default runs the pinned
// binary with connector.LaunchWith. Tests put in-process connectors here.
type Launcher func(ctx context.Context, inst *cmdb.ConnectorInstance) (connector.Connector, func(), error)

// Options configure an Engine.
type Options struct {
	Store  Store
	Logger *slog.Logger
	// Launch overrides how connectors start (tests).
	Launch Launcher
	// Plugin tunes the plugin's deadlines (connector.Options); SHA256 is
	// always the instance's.
	Plugin connector.Options
	// BatchSize is the number of changed records per reconcile
	// transaction (default 2000).
	BatchSize int
	// Progress, if set, is called after every batch with the run so far
	// (the CLI's progress bar).
	Progress func(*cmdb.ConnectorRun)
	Now      func() time.Time
}

// Engine runs syncs.
type Engine struct {
	o    Options
	wg   sync.WaitGroup
	stop context.CancelFunc
	ctx  context.Context
}

// New returns an engine.
func New(o Options) *Engine {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 2000
	}
	if o.BatchSize > cmdb.MaxBatch {
		o.BatchSize = cmdb.MaxBatch
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	e := &Engine{o: o}
	e.ctx, e.stop = context.WithCancel(context.Background())
	if e.o.Launch == nil {
		e.o.Launch = e.launch
	}
	return e
}

// Close cancels background runs and waits for them; their connector
// processes stop with them. (connector.KillAll, at server shutdown, stops
// every connector of the process.)
func (e *Engine) Close() {
	e.stop()
	e.wg.Wait()
}

// ErrBinaryChanged: the executable is not the one registered.
var ErrBinaryChanged = errors.New("the connector executable is not the registered one")

// verifyBinary compares the executable with its pinned SHA-256 before it
// runs, to say so plainly; LaunchWith checks again as it starts it.
func verifyBinary(inst *cmdb.ConnectorInstance) error {
	f, err := os.Open(inst.BinaryPath)
	if err != nil {
		return fmt.Errorf("das Connector-Programm %s kann nicht geöffnet werden: %w", inst.BinaryPath, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != inst.BinarySHA256 {
		return fmt.Errorf("%w: Das Connector-Programm %s wurde ersetzt (SHA-256 %s, registriert ist %s); es wird nicht gestartet. "+
			"Prüfen Sie die Datei und registrieren Sie sie neu (nach einem Update: cmdbd connector repin; sonst cmdbd connector add … --replace)", ErrBinaryChanged, inst.BinaryPath, got[:12], inst.BinarySHA256[:12])
	}
	return nil
}

func (e *Engine) launch(ctx context.Context, inst *cmdb.ConnectorInstance) (connector.Connector, func(), error) {
	if err := verifyBinary(inst); err != nil {
		return nil, nil, err
	}
	o := e.o.Plugin
	o.SHA256, _ = hex.DecodeString(inst.BinarySHA256)
	return connector.LaunchWith(ctx, inst.BinaryPath, e.o.Logger.With("connector", inst.Name), o)
}

// config builds the plugin's configuration with the unsealed secrets.
func (e *Engine) config(ctx context.Context, s cmdb.Scope, inst *cmdb.ConnectorInstance) (connector.Config, error) {
	secrets, err := e.o.Store.ConnectorSecrets(ctx, s, inst.ID)
	if err != nil {
		return connector.Config{}, err
	}
	cfg := connector.Config{Settings: inst.Settings, Secrets: map[string]connector.Secret{}}
	for k, v := range secrets {
		cfg.Secrets[k] = connector.Secret(v)
	}
	return cfg, nil
}

// Check starts the instance's connector and has it check its
// configuration, connection and credentials.
func (e *Engine) Check(ctx context.Context, s cmdb.Scope, inst *cmdb.ConnectorInstance) (connector.CheckResult, error) {
	cfg, err := e.config(ctx, s, inst)
	if err != nil {
		return connector.CheckResult{}, err
	}
	c, stop, err := e.o.Launch(ctx, inst)
	if err != nil {
		return connector.CheckResult{}, err
	}
	defer stop()
	return c.Check(ctx, cfg)
}

// RunOptions say how a run goes.
type RunOptions struct {
	// DryRun computes everything and writes nothing; the run's Plan says
	// what would happen.
	DryRun bool
	// Confirm lets a run retire more than the guard share of records.
	Confirm bool
}

// Start records a new run and runs it in the background; the run row is
// returned at once (for the API: never a sync inside a request).
func (e *Engine) Start(s cmdb.Scope, inst *cmdb.ConnectorInstance, o RunOptions) (*cmdb.ConnectorRun, error) {
	run, err := e.begin(e.ctx, s, inst, o)
	if err != nil {
		return nil, err
	}
	e.wg.Add(1)
	started := *run
	go func() {
		defer e.wg.Done()
		if err := e.execute(e.ctx, s, inst, o, run); err != nil {
			e.o.Logger.Error("connector sync", "connector", inst.Name, "run", run.ID, "err", err)
		}
	}()
	return &started, nil
}

// Run runs a sync to its end and returns its log. An error means the run
// could not be recorded; a failed sync is a run with status failed.
func (e *Engine) Run(ctx context.Context, s cmdb.Scope, inst *cmdb.ConnectorInstance, o RunOptions) (*cmdb.ConnectorRun, error) {
	run, err := e.begin(ctx, s, inst, o)
	if err != nil {
		return nil, err
	}
	return run, e.execute(ctx, s, inst, o, run)
}

func (e *Engine) begin(ctx context.Context, s cmdb.Scope, inst *cmdb.ConnectorInstance, o RunOptions) (*cmdb.ConnectorRun, error) {
	run := &cmdb.ConnectorRun{InstanceID: inst.ID, DryRun: o.DryRun, Confirmed: o.Confirm}
	if err := e.o.Store.StartConnectorRun(ctx, s, run); err != nil {
		return nil, err
	}
	return run, nil
}

// errCancelled stops a Pull when a person cancelled the run.
var errCancelled = errors.New("cancelled")

// execute does the run and always finishes its log.
func (e *Engine) execute(ctx context.Context, s cmdb.Scope, inst *cmdb.ConnectorInstance, o RunOptions, run *cmdb.ConnectorRun) error {
	st := &state{e: e, s: s, inst: inst, opts: o, run: run, seen: map[string]bool{}}
	if o.DryRun {
		run.Plan = &cmdb.RunPlan{Creates: []cmdb.PlanCI{}, Updates: []cmdb.PlanCI{}, Retires: []cmdb.PlanCI{}, Conflicts: []cmdb.RunError{}}
	}
	st.mem = watchMemory()
	// A cancel is seen at every batch; the watcher also sees it while the
	// connector sends none (a slow source, a hung one before its stall
	// deadline), and stops the run's calls.
	rctx, stopRun := context.WithCancelCause(ctx)
	go e.watchCancel(rctx, stopRun, s, run.ID)
	err := st.sync(rctx)
	cancelled := errors.Is(context.Cause(rctx), errCancelled)
	stopRun(nil)
	run.PeakMemoryBytes, run.PluginMemoryBytes = st.mem.stop()
	switch {
	case err == nil:
		if run.Status == cmdb.RunRunning {
			run.Status = cmdb.RunSucceeded
		}
		run.Progress = 100
	case cancelled || errors.Is(err, errCancelled) || (ctx.Err() != nil && errors.Is(err, context.Canceled)):
		run.Status, run.Failure = cmdb.RunCancelled, "Abgebrochen."
	default:
		run.Status, run.Failure = cmdb.RunFailed, err.Error()
	}
	// The log is written even when the caller's context has ended.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := e.o.Store.FinishConnectorRun(fctx, s, run); err != nil {
		return err
	}
	e.o.Logger.Info("connector sync finished", "connector", inst.Name, "run", run.ID, "status", run.Status,
		"seen", run.Seen, "created", run.Created, "updated", run.Updated, "unchanged", run.Unchanged,
		"retired", run.Retired, "conflicts", run.Conflicts, "errors", run.Errors,
		"pushed", run.Pushed, "push_failures", run.PushFailures)
	if e.o.Progress != nil {
		e.o.Progress(run)
	}
	return nil
}

// cancelPoll is how often a run looks for a cancel between batches.
const cancelPoll = 2 * time.Second

// watchCancel stops the run's context with errCancelled once a person
// asked to cancel it (on any replica: the flag is in the store).
func (e *Engine) watchCancel(ctx context.Context, stop context.CancelCauseFunc, s cmdb.Scope, id int64) {
	t := time.NewTicker(cancelPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if r, err := e.o.Store.FindConnectorRun(ctx, s, id); err == nil && r.CancelRequested {
				stop(errCancelled)
				return
			}
		}
	}
}

// state is one run in progress.
type state struct {
	e       *Engine
	s       cmdb.Scope
	inst    *cmdb.ConnectorInstance
	opts    RunOptions
	run     *cmdb.ConnectorRun
	w       cmdb.SyncWriter
	places  *places
	replica map[string]*cmdb.ReplicaRecord
	seen    map[string]bool
	deleted []string
	pending []cmdb.SyncItem
	wishes  map[int]*roomWish // index in pending → room to create
	began   time.Time
	last    time.Time
	mem     *memWatch
	// base is the replica's count of active records: what the guard
	// measures disappearances against.
	base int
	// announced is the total the connector announced for this Pull
	// (connector.ExpectTotal), 0 if none; set from the Pull's goroutine.
	announced atomic.Int64
}

func (st *state) sync(ctx context.Context) error {
	e, s, inst := st.e, st.s, st.inst
	var err error
	if st.replica, err = e.o.Store.ConnectorReplica(ctx, s, inst.ID); err != nil {
		return err
	}
	for _, r := range st.replica {
		if r.State == cmdb.ReplicaActive || r.State == cmdb.ReplicaError {
			st.base++
		}
	}
	st.run.Expected = st.base
	schools, err := e.o.Store.FindSchools(ctx, s, cmdb.TenantFilter{AuthorityID: inst.AuthorityID})
	if err != nil {
		return err
	}
	rooms, err := e.o.Store.FindRooms(ctx, s, cmdb.TenantFilter{AuthorityID: inst.AuthorityID})
	if err != nil {
		return err
	}
	st.places = newPlaces(schools, rooms)
	cfg, err := e.config(ctx, s, inst)
	if err != nil {
		return err
	}
	t0 := time.Now()
	phase := func(what string) {
		e.o.Logger.Debug("connector sync phase", "connector", inst.Name, "phase", what, "since_start", time.Since(t0))
	}
	c, stop, err := e.o.Launch(ctx, inst)
	if err != nil {
		return err
	}
	defer stop()
	phase("launched")
	st.mem.watchPID(connector.PID(c))
	if st.w, err = e.o.Store.BeginSync(ctx, s, inst, st.opts.DryRun); err != nil {
		return err
	}
	defer st.w.Close()
	st.wishes = map[int]*roomWish{}
	st.began = e.o.Now()
	phase("checked")
	if err := st.pull(ctx, c, cfg); err != nil {
		return st.explain(ctx, c, cfg, err)
	}
	phase("pulled")
	if err := st.flush(ctx); err != nil {
		return err
	}
	defer phase("done")
	if err := st.disappeared(ctx); err != nil {
		return err
	}
	// What the pull applied stays applied whatever the push does; a run
	// the guard refused pushes nothing until a person has looked.
	if inst.Push && st.run.Status == cmdb.RunRunning {
		return st.pushBack(ctx, c, cfg)
	}
	return nil
}

// pull runs the connector's Pull with the host's work in a goroutine of
// its own, so that the connector reads and sends the next records while
// the last batch is written. All state of the run stays with that one
// goroutine. Batches that arrived before the connector failed are still
// applied: they are whole records.
func (st *state) pull(ctx context.Context, c connector.Connector, cfg connector.Config) error {
	queue := make(chan []connector.Record, 8)
	failed := make(chan struct{})
	var takeErr error
	var busy time.Duration
	defer func() { st.e.o.Logger.Debug("host work during pull", "took", busy) }()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for batch := range queue {
			if takeErr != nil {
				continue
			}
			t := time.Now()
			takeErr = st.take(ctx, batch)
			busy += time.Since(t)
			if takeErr != nil {
				close(failed)
			}
		}
	}()
	// A first run has no replica to measure progress by: the source's
	// own count, when the connector announces one, serves instead.
	pctx := connector.WithExpectTotal(ctx, func(n int) { st.announced.Store(int64(n)) })
	pullErr := c.Pull(pctx, cfg, func(batch []connector.Record) error {
		select {
		case queue <- batch:
			return nil
		case <-failed:
			return errStopped
		}
	})
	close(queue)
	<-done
	if takeErr != nil {
		return takeErr
	}
	return pullErr
}

// explain asks a connector whose Pull failed to check its configuration,
// so that the run log names the setting and the rule. Check runs only
// then, not before every Pull: for a file connector it reads the whole
// file, which would double an unchanged run's cost.
func (st *state) explain(ctx context.Context, c connector.Connector, cfg connector.Config, pullErr error) error {
	if ctx.Err() != nil || errors.Is(pullErr, errCancelled) || errors.Is(pullErr, connector.ErrCrashed) ||
		errors.Is(pullErr, connector.ErrHung) || errors.Is(pullErr, connector.ErrStopped) {
		return pullErr
	}
	var remote *connector.RemoteError
	if !errors.As(pullErr, &remote) {
		return pullErr // the host's own error
	}
	chk, err := c.Check(ctx, cfg)
	if err != nil || chk.OK {
		return pullErr
	}
	for _, p := range chk.Problems {
		st.addError(&cmdb.RunError{Origin: "Konfiguration", Field: p.Field, Rule: p.Rule, Message: p.Message})
	}
	return fmt.Errorf("die Prüfung der Konfiguration ist fehlgeschlagen: %s", chk.Message)
}

// errStopped tells the connector that the host stopped listening; the
// run ends with the host's own error.
var errStopped = errors.New("the host stopped the pull")

// take maps a batch of records and applies what changed in batches.
func (st *state) take(ctx context.Context, batch []connector.Record) error {
	st.run.Batches++
	for i := range batch {
		rec := &batch[i]
		st.run.Seen++
		if rec.SourceKey != "" {
			if st.seen[rec.SourceKey] {
				st.addError(&cmdb.RunError{Origin: origin(rec), SourceKey: rec.SourceKey, Field: "source_key", Rule: "duplicate",
					Message: "Der Schlüssel kam in diesem Lauf schon vor; der Datensatz wird übergangen."})
				continue
			}
			st.seen[rec.SourceKey] = true
		}
		if rec.Deleted {
			st.deleted = append(st.deleted, rec.SourceKey)
			continue
		}
		m := mapRecord(st.inst, st.places, rec)
		var h int64
		if m.err == nil {
			h = hash(&m)
			// A push instance needs the source's view of every record: a row
			// from before push existed is written once more to get it.
			if r := st.replica[rec.SourceKey]; r != nil && r.Hash == h && r.State == cmdb.ReplicaActive && (r.ViewKnown || !st.inst.Push) {
				st.run.Unchanged++
				continue
			}
			validate(&m, st.inst, rec)
		}
		item := cmdb.SyncItem{NativeKey: rec.SourceKey, Origin: origin(rec), Err: m.err, Obs: m.obs, Hash: h}
		if m.err != nil && item.NativeKey == "" {
			st.addError(m.err)
			continue
		}
		if m.newRoom != nil {
			st.wishes[len(st.pending)] = m.newRoom
		}
		st.pending = append(st.pending, item)
	}
	if len(st.pending) >= st.e.o.BatchSize {
		if err := st.flush(ctx); err != nil {
			return err
		}
	}
	return st.report(ctx, false)
}

// report writes progress at most twice a second and checks for a cancel.
func (st *state) report(ctx context.Context, force bool) error {
	now := time.Now()
	if !force && now.Sub(st.last) < 500*time.Millisecond {
		return nil
	}
	st.last = now
	if n := st.announced.Load(); n > 0 {
		st.run.Expected = int(n)
	}
	if st.run.Expected > 0 {
		st.run.Progress = min(99, 100*float64(st.run.Seen)/float64(st.run.Expected))
	}
	st.run.PeakMemoryBytes, st.run.PluginMemoryBytes = st.mem.peak()
	cancel, err := st.e.o.Store.UpdateConnectorRun(ctx, st.s, st.run)
	if err != nil {
		return err
	}
	if st.e.o.Progress != nil {
		st.e.o.Progress(st.run)
	}
	if cancel {
		return errCancelled
	}
	return nil
}

// flush applies the pending records in one transaction and marks the
// unchanged ones seen.
func (st *state) flush(ctx context.Context) error {
	if len(st.pending) == 0 {
		return nil
	}
	if err := st.createRooms(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	out, err := st.w.Apply(ctx, st.pending)
	if err != nil {
		return err
	}
	st.e.o.Logger.Debug("connector batch applied", "connector", st.inst.Name, "records", len(st.pending), "took", time.Since(t0))
	for i, o := range out {
		it := &st.pending[i]
		switch {
		case o.Err != nil:
			st.addError(o.Err)
		case o.Outcome == cmdb.OutcomeCreated:
			st.run.Created++
			st.plan(&st.planOf().Creates, it, o)
		case o.Outcome == cmdb.OutcomeUpdated:
			st.run.Updated++
			st.plan(&st.planOf().Updates, it, o)
		case o.Outcome == cmdb.OutcomeUnchanged:
			st.run.Unchanged++
		}
		if o.Conflict != nil {
			st.run.Conflicts++
			st.addEntry(o.Conflict)
			if p := st.run.Plan; p != nil && len(p.Conflicts) < cmdb.MaxPlanEntries {
				p.Conflicts = append(p.Conflicts, *o.Conflict)
			}
		}
	}
	st.pending = st.pending[:0]
	clear(st.wishes)
	return nil
}

// planOf returns the dry run's plan, or a scratch one for a real run.
func (st *state) planOf() *cmdb.RunPlan {
	if st.run.Plan != nil {
		return st.run.Plan
	}
	return &cmdb.RunPlan{}
}

func (st *state) plan(list *[]cmdb.PlanCI, it *cmdb.SyncItem, o cmdb.SyncOutcome) {
	if st.run.Plan == nil {
		return
	}
	st.run.Plan.Add(list, cmdb.PlanCI{SourceKey: it.NativeKey, Origin: it.Origin, CIID: o.CIID, Changes: o.Changes})
}

// createRooms creates the rooms pending records name, where the instance
// allows it; a dry run only lists them.
func (st *state) createRooms(ctx context.Context) error {
	for i, w := range st.wishes {
		if r := st.places.rooms[w.school.ID][fold(w.room)]; r != nil {
			st.pending[i].Obs.RoomID = r.ID
			continue
		}
		if st.opts.DryRun {
			if p := st.run.Plan; p != nil && len(p.Rooms) < cmdb.MaxPlanEntries {
				p.Rooms = append(p.Rooms, cmdb.PlanNewRoom{School: w.school.Code, Room: w.room})
			}
			st.places.addRoom(&cmdb.Room{SchoolID: w.school.ID, Code: w.room, Name: w.room})
			continue
		}
		r, err := st.newRoom(ctx, w)
		if err != nil {
			st.pending[i].Err = &cmdb.RunError{Origin: st.pending[i].Origin, SourceKey: st.pending[i].NativeKey,
				Field: "room", Rule: cmdb.ErrorCode(err), Message: "Raum " + w.room + " kann nicht angelegt werden: " + cmdb.ErrorMessage(err)}
			continue
		}
		st.places.addRoom(r)
		st.pending[i].Obs.RoomID = r.ID
	}
	return nil
}

func (st *state) newRoom(ctx context.Context, w *roomWish) (*cmdb.Room, error) {
	e := st.e
	bs, err := e.o.Store.FindBuildings(ctx, st.s, cmdb.TenantFilter{SchoolID: w.school.ID})
	if err != nil {
		return nil, err
	}
	var b *cmdb.Building
	for _, x := range bs {
		if w.building == "" || fold(x.Code) == fold(w.building) || fold(x.Name) == fold(w.building) {
			b = x
			break
		}
	}
	if b == nil {
		name := w.building
		if name == "" {
			name = "Hauptgebäude"
		}
		b = &cmdb.Building{SchoolID: w.school.ID, Code: codeOf(name), Name: name}
		if err := e.o.Store.CreateBuilding(ctx, st.s, b); err != nil {
			return nil, err
		}
	}
	r := &cmdb.Room{BuildingID: b.ID, SchoolID: w.school.ID, Code: codeOf(w.room), Name: w.room}
	return r, e.o.Store.CreateRoom(ctx, st.s, r)
}

// codeOf makes a short code of a name: letters, digits, '.', '-', '_'.
func codeOf(name string) string {
	out := []rune{}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			out = append(out, r)
		case len(out) > 0 && out[len(out)-1] != '-':
			out = append(out, '-')
		}
	}
	if len(out) == 0 || out[0] == '.' || out[0] == '-' || out[0] == '_' {
		out = append([]rune{'R'}, out...)
	}
	if len(out) > cmdb.MaxCodeLen {
		out = out[:cmdb.MaxCodeLen]
	}
	return string(out)
}

// disappeared applies the delete policy to records the source no longer
// has (or marks deleted), behind the guard.
func (st *state) disappeared(ctx context.Context) error {
	var gone []*cmdb.ReplicaRecord
	for k, r := range st.replica {
		if (r.State == cmdb.ReplicaActive || r.State == cmdb.ReplicaError) && !st.seen[k] {
			gone = append(gone, r)
		}
	}
	for _, k := range st.deleted {
		if r := st.replica[k]; r != nil && r.State != cmdb.ReplicaRetired && r.State != cmdb.ReplicaDisposed {
			gone = append(gone, r)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].NativeKey < gone[j].NativeKey })
	inst, now := st.inst, st.e.o.Now()
	goneKeys := make([]string, len(gone))
	for i, r := range gone {
		goneKeys[i] = r.NativeKey
	}
	if n, base := len(gone), st.base; n > 0 && base > 0 && float64(n) > inst.GuardShare*float64(base) && !st.opts.Confirm {
		if err := st.w.Touch(ctx, st.began, now, goneKeys); err != nil {
			return err
		}
		st.run.Status = cmdb.RunRefused
		st.run.Failure = fmt.Sprintf("%d von %d Datensätzen (%.0f %%) fehlen in der Quelle, mehr als die erlaubten %.0f %%; "+
			"nichts wurde ausgesondert. Prüfen Sie die Quelle und starten Sie den Lauf mit --confirm, wenn es stimmt.",
			n, base, 100*float64(n)/float64(base), 100*inst.GuardShare)
		return nil
	}
	// The disappeared records leave state active first; then every
	// active record is one this run saw.
	switch inst.DeletePolicy {
	case cmdb.DeleteIgnore:
		if err := st.w.Forget(ctx, goneKeys, now); err != nil {
			return err
		}
	case cmdb.DeleteRetire, cmdb.DeleteRetireDispose:
		if err := st.retire(ctx, gone, cmdb.StatusRetired); err != nil {
			return err
		}
	}
	if err := st.w.Touch(ctx, st.began, now, nil); err != nil {
		return err
	}
	if inst.DeletePolicy == cmdb.DeleteRetireDispose {
		var due []*cmdb.ReplicaRecord
		for _, r := range st.replica {
			if r.State == cmdb.ReplicaRetired && !r.GoneSince.IsZero() && now.Sub(r.GoneSince) >= time.Duration(inst.DisposeAfterDays)*24*time.Hour {
				due = append(due, r)
			}
		}
		return st.retire(ctx, due, cmdb.StatusDisposed)
	}
	return nil
}

func (st *state) retire(ctx context.Context, recs []*cmdb.ReplicaRecord, status string) error {
	for len(recs) > 0 {
		n := min(len(recs), st.e.o.BatchSize)
		out, err := st.w.Retire(ctx, recs[:n], status)
		if err != nil {
			return err
		}
		for i, o := range out {
			switch {
			case o.Err != nil:
				st.addError(o.Err)
			case o.Conflict != nil:
				st.run.Conflicts++
				st.addEntry(o.Conflict)
			default:
				if status == cmdb.StatusRetired {
					st.run.Retired++
				}
				if st.run.Plan != nil {
					st.run.Plan.Add(&st.run.Plan.Retires, cmdb.PlanCI{SourceKey: recs[i].NativeKey, CIID: recs[i].CIID,
						Changes: o.Changes})
				}
			}
		}
		recs = recs[n:]
	}
	return nil
}

func (st *state) addError(e *cmdb.RunError) {
	st.run.Errors++
	st.addEntry(e)
}

func (st *state) addEntry(e *cmdb.RunError) {
	if len(st.run.ErrorList) < cmdb.MaxRunErrors {
		st.run.ErrorList = append(st.run.ErrorList, *e)
	}
}

// Summary is the JSON summary of a run (cmdbd sync run --json).
func Summary(run *cmdb.ConnectorRun) json.RawMessage {
	b, _ := json.MarshalIndent(run, "", "  ")
	return b
}
