// Package postgres is the PostgreSQL adapter: it implements the store
// interfaces of package cmdb, including Reconcile, the one door through
// which CIs are written. Every query filters by the caller's scope here,
// in the store, never only in a handler.
package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/schema"
	"github.com/schulit/cmdb/server/cmdb"
)

// Options configures a DB.
type Options struct {
	// Policy decides source precedence; nil means cmdb.DefaultPolicy().
	Policy *cmdb.Policy
	// Now returns the current time; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// MaxOpenConns bounds the connection pool; 0 means 20.
	MaxOpenConns int
	// SecretKey (32 bytes) encrypts secrets at rest. Empty: a random key
	// for this process only (secrets stored with it are lost on restart).
	SecretKey []byte
	// SessionIdle and SessionMax are the idle and absolute lifetimes of
	// browser sessions; zero means 2 hours and 12 hours.
	SessionIdle, SessionMax time.Duration
	// Lockout says after how many failed sign-ins an account is locked,
	// and for how long; zero means 5 and 15 minutes.
	LockoutAfter int
	LockoutFor   time.Duration
	// AllowPrivateIssuers lets authorities name OpenID issuers that are
	// plain http or lie on loopback, private or other non-public
	// addresses; by default an issuer must be https on a public address.
	AllowPrivateIssuers bool
	// Registry receives the store's metrics (reconcile outcomes,
	// duplicate candidates, dropped identifiers); nil: not exported.
	Registry prometheus.Registerer
	// MetricRetention says how long metric values are kept at each
	// resolution (see RollupMetrics); zero fields mean the defaults.
	MetricRetention Retention
	// AttachmentLimits bound ticket attachments; zero fields mean the
	// defaults (cmdb.DefaultMaxAttachmentSize …).
	AttachmentLimits cmdb.AttachmentLimits
	// Mail composes the notification mail of ticket events, queued in the
	// outbox in the change's own transaction; nil: no notifications (no
	// relay configured).
	Mail cmdb.MailComposer
}

// DB is the PostgreSQL store.
type DB struct {
	db     *sqlx.DB
	policy *cmdb.Policy
	now    func() time.Time
	log    *slog.Logger
	seal   *sealer
	// metrics count reconcile outcomes (see reconcileMetrics).
	metrics *reconcileMetrics
	// junk caches the junk identifier list (see loadJunk).
	junk junkCache
	// software caches catalogue ids (see catalogue).
	software catalogue
	opts     Options
	// verifyHook, if set, is called once per Argon2 verification (tests).
	verifyHook func()
	// stmts are the prepared statements of the hot paths.
	stmts prepared
}

// Open connects to the database at url (a lib/pq URL or DSN) and checks
// that it answers. It does not migrate; call Migrate.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pq.NewConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres.Open: %s", redactURL(err.Error(), url))
	}
	// The store's queries are short and planned for indexes; PostgreSQL's
	// JIT compiler, on by default, compiled some of them on every run
	// because their estimated cost crossed its threshold: 70 ms of
	// compiling for a 25 ms search of a school's devices. A database that
	// wants it names jit in the URL.
	if _, set := cfg.Runtime["jit"]; !set {
		if cfg.Runtime == nil {
			cfg.Runtime = map[string]string{}
		}
		cfg.Runtime["jit"] = "off"
	}
	conn, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres.Open: %w", err)
	}
	sdb := sqlx.NewDb(sql.OpenDB(conn), "postgres")
	n := opts.MaxOpenConns
	if n == 0 {
		n = 20
	}
	sdb.SetMaxOpenConns(n)
	sdb.SetMaxIdleConns(n)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("postgres.Open: %s", redactURL(err.Error(), url))
	}
	if opts.SessionIdle == 0 {
		opts.SessionIdle = 2 * time.Hour
	}
	if opts.SessionMax == 0 {
		opts.SessionMax = 12 * time.Hour
	}
	if opts.LockoutAfter == 0 {
		opts.LockoutAfter = 5
	}
	if opts.LockoutFor == 0 {
		opts.LockoutFor = 15 * time.Minute
	}
	key := opts.SecretKey
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	seal, err := newSealer(key)
	if err != nil {
		sdb.Close()
		return nil, fmt.Errorf("postgres.Open: %w", err)
	}
	db := &DB{db: sdb, policy: opts.Policy, now: opts.Now, log: opts.Logger, seal: seal, opts: opts,
		metrics: newReconcileMetrics(opts.Registry)}
	if db.policy == nil {
		db.policy = cmdb.DefaultPolicy()
	}
	if db.now == nil {
		db.now = time.Now
	}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	db.registerSLAMetrics(opts.Registry)
	return db, nil
}

// redactURL removes the connection URL (and so its password) from a message.
func redactURL(msg, url string) string {
	if url != "" {
		msg = strings.ReplaceAll(msg, url, "[database url]")
	}
	return msg
}

// Close closes the connection pool.
func (db *DB) Close() error { db.closeStmts(); return db.db.Close() }

// Ping checks that the database answers and is migrated to the newest version.
func (db *DB) Ping(ctx context.Context) error {
	var v int
	if err := db.db.GetContext(ctx, &v, `SELECT coalesce(max(version), 0) FROM schema_migrations`); err != nil {
		return fmt.Errorf("postgres.Ping: %w", err)
	}
	if want := len(migrations()); v < want {
		return fmt.Errorf("postgres.Ping: schema at version %d, want %d", v, want)
	}
	return nil
}

// SQL returns the underlying pool, for tests and benchmarks.
func (db *DB) SQL() *sqlx.DB { return db.db }

type migration struct {
	version int
	name    string
}

func migrations() []migration {
	entries, err := fs.Glob(schema.FS, "*.sql")
	if err != nil {
		panic(err) // the pattern is constant
	}
	var out []migration
	for _, e := range entries {
		n, err := strconv.Atoi(strings.SplitN(e, "_", 2)[0])
		if err != nil {
			panic("schema: migration " + e + " does not start with a number")
		}
		out = append(out, migration{version: n, name: e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			panic(fmt.Sprintf("schema: migration %s out of sequence, want number %d", m.name, i+1))
		}
	}
	return out
}

// migrateLockID is the advisory lock key held while migrating, so that
// replicas starting at once migrate one after another.
const migrateLockID = 7_202_611_220

// Migrate applies all pending migrations. See MigrateTo.
func (db *DB) Migrate(ctx context.Context) error { return db.MigrateTo(ctx, 0) }

// MigrateTo applies pending migrations up to version to (0: all), each in
// its own transaction, under a session advisory lock. It returns the
// number of migrations applied.
func (db *DB) MigrateTo(ctx context.Context, to int) error {
	conn, err := db.db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("postgres.Migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLockID); err != nil {
		return fmt.Errorf("postgres.Migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLockID)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres.Migrate: %w", err)
	}
	var cur int
	if err := conn.GetContext(ctx, &cur, `SELECT coalesce(max(version), 0) FROM schema_migrations`); err != nil {
		return fmt.Errorf("postgres.Migrate: %w", err)
	}
	for _, m := range migrations() {
		if m.version <= cur || (to > 0 && m.version > to) {
			continue
		}
		body, err := fs.ReadFile(schema.FS, m.name)
		if err != nil {
			return fmt.Errorf("postgres.Migrate: %w", err)
		}
		tx, err := conn.BeginTxx(ctx, nil)
		if err != nil {
			return fmt.Errorf("postgres.Migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("postgres.Migrate %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			tx.Rollback()
			return fmt.Errorf("postgres.Migrate %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("postgres.Migrate %s: %w", m.name, err)
		}
		db.log.Info("applied migration", "version", m.version, "name", m.name)
	}
	return nil
}

// inTx runs fn in a transaction and commits it if fn returns nil. It
// retries the whole transaction on deadlock and serialization failures.
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		tx, err := db.db.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		err = fn(tx)
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		var pe *pq.Error
		if err != nil && attempt < 4 && errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
			continue
		}
		return err
	}
}

// mapErr turns constraint violations into application errors and wraps
// everything else with the operation.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *cmdb.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return cmdb.Errorf(cmdb.ENOTFOUND, "Not found.")
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: constraintField(pe.Constraint), Message: "already exists"}
		case "23503":
			return &cmdb.Error{Code: cmdb.EINVALID, Field: constraintField(pe.Constraint), Message: "refers to something that does not exist in this authority"}
		case "23514", "22001":
			return &cmdb.Error{Code: cmdb.EINVALID, Field: constraintField(pe.Constraint), Message: "breaks a rule of the schema (" + pe.Constraint + ")"}
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// constraintField guesses the input field from a constraint name such as
// schools_authority_id_code_key.
func constraintField(c string) string {
	for _, f := range []string{"room_id", "school_id", "authority_id", "building_id", "provider_id", "code", "name"} {
		if strings.Contains(c, f) {
			return f
		}
	}
	return ""
}

// where builds a WHERE clause from conditions with ? placeholders.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return "TRUE"
	}
	return strings.Join(w.conds, " AND ")
}

// scope adds the tenant condition for the scope: authority column a and
// (optional) school column sc.
func (w *where) scope(s cmdb.Scope, a, sc string) {
	schools := s.VisibleSchools()
	switch {
	case s.Admin:
	case sc == "" || len(schools) == 0:
		w.add(a+" = ANY(?)", pq.Array(s.Authorities))
	default:
		w.add("("+a+" = ANY(?) OR "+sc+" = ANY(?))", pq.Array(s.Authorities), pq.Array(schools))
	}
}

func rebind(q string) string { return sqlx.Rebind(sqlx.DOLLAR, q) }

// noSuch is the one message for a reference that names nothing (or
// nothing the caller may see): "No such room: 42.".
func noSuch(what string, id any) string { return fmt.Sprintf("No such %s: %v.", what, id) }

// notFound is the error for an unknown id in the request path: ENOTFOUND
// (404).
func notFound(what string, id int64) error {
	return &cmdb.Error{Code: cmdb.ENOTFOUND, Message: noSuch(what, id)}
}

// unknownRef is the error for an unknown id in a request body: EINVALID
// (400) naming the field.
func unknownRef(field, what string, id int64) error {
	return &cmdb.Error{Code: cmdb.EINVALID, Field: field, Message: noSuch(what, id)}
}

// asRef turns a not-found error of a lookup made for a body field into
// unknownRef; other errors pass.
func asRef(err error, field, what string, id int64) error {
	if cmdb.ErrorCode(err) == cmdb.ENOTFOUND {
		return unknownRef(field, what, id)
	}
	return err
}
