package postgres

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// Connector instances are the business of authority IT: the scope must
// see the whole authority. Anything else answers ENOTFOUND.

const connectorColumns = `id, authority_id, name, plugin, binary_path, binary_sha256, settings, secret_names,
	schedule, mapping, delete_policy, dispose_after_days, guard_share, push, created_at, updated_at, created_by`

type connectorRow struct {
	ID               int64          `db:"id"`
	AuthorityID      int64          `db:"authority_id"`
	Name             string         `db:"name"`
	Plugin           string         `db:"plugin"`
	BinaryPath       string         `db:"binary_path"`
	BinarySHA256     []byte         `db:"binary_sha256"`
	Settings         []byte         `db:"settings"`
	SecretNames      pq.StringArray `db:"secret_names"`
	Schedule         string         `db:"schedule"`
	Mapping          []byte         `db:"mapping"`
	DeletePolicy     string         `db:"delete_policy"`
	DisposeAfterDays int            `db:"dispose_after_days"`
	GuardShare       float64        `db:"guard_share"`
	Push             bool           `db:"push"`
	CreatedAt        time.Time      `db:"created_at"`
	UpdatedAt        time.Time      `db:"updated_at"`
	CreatedBy        string         `db:"created_by"`
}

func (r *connectorRow) toInstance() (*cmdb.ConnectorInstance, error) {
	c := &cmdb.ConnectorInstance{ID: r.ID, AuthorityID: r.AuthorityID, Name: r.Name, Plugin: r.Plugin,
		BinaryPath: r.BinaryPath, BinarySHA256: hex.EncodeToString(r.BinarySHA256), Settings: json.RawMessage(r.Settings),
		SecretNames: []string(r.SecretNames), Schedule: r.Schedule, DeletePolicy: r.DeletePolicy,
		DisposeAfterDays: r.DisposeAfterDays, GuardShare: r.GuardShare, Push: r.Push, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		CreatedBy: r.CreatedBy}
	if c.SecretNames == nil {
		c.SecretNames = []string{}
	}
	if err := json.Unmarshal(r.Mapping, &c.Mapping); err != nil {
		return nil, fmt.Errorf("connector %d mapping: %w", r.ID, err)
	}
	return c, nil
}

// sealSecrets seals a secret map as one JSON object; no secrets: nil.
func (db *DB) sealSecrets(m map[string]string) []byte {
	if len(m) == 0 {
		return nil
	}
	b, _ := json.Marshal(m)
	return db.seal.seal(b)
}

func validSecrets(m map[string]string) error {
	for k, v := range m {
		if k == "" || len(k) > 64 || !attrLike(k) {
			return cmdb.Invalid("secrets", "secret name %q must be 1 to 64 lower-case letters, digits or '_'", k)
		}
		if len(v) > 8192 {
			return cmdb.Invalid("secrets."+k, "must be at most 8192 bytes")
		}
	}
	return nil
}

func attrLike(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// CreateConnector stores an instance; see cmdb.ConnectorStore.
func (db *DB) CreateConnector(ctx context.Context, s cmdb.Scope, c *cmdb.ConnectorInstance, secrets map[string]string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := validSecrets(secrets); err != nil {
		return err
	}
	if !s.CanSeeAuthority(c.AuthorityID) {
		return unknownRef("authority_id", "authority", c.AuthorityID)
	}
	sum, _ := hex.DecodeString(c.BinarySHA256)
	if len(c.Settings) == 0 {
		c.Settings = json.RawMessage(`{}`)
	}
	c.SecretNames = cmdb.SortedSecretNames(secrets)
	now := db.now()
	c.CreatedAt, c.UpdatedAt, c.CreatedBy = now, now, s.Subject
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.QueryRowxContext(ctx, `INSERT INTO connector_instances (authority_id, name, plugin, binary_path, binary_sha256,
			settings, secrets_sealed, secret_names, schedule, mapping, delete_policy, dispose_after_days, guard_share,
			created_at, updated_at, created_by, push)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16) RETURNING id`,
			c.AuthorityID, c.Name, c.Plugin, c.BinaryPath, sum, []byte(c.Settings), db.sealSecrets(secrets),
			pq.Array(c.SecretNames), c.Schedule, mustJSON(c.Mapping), c.DeletePolicy, c.DisposeAfterDays, c.GuardShare,
			now, s.Subject, c.Push).Scan(&c.ID)
		if err != nil {
			return err
		}
		return audit(ctx, tx, s, "connector_created", fmt.Sprintf("connector:%d", c.ID), c.AuthorityID,
			map[string]any{"name": c.Name, "plugin": c.Plugin, "secrets": c.SecretNames, "push": c.Push}, now)
	})
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23505" {
		return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "name", Message: fmt.Sprintf("This authority already has a connector named %q.", c.Name)}
	}
	return mapErr("postgres.CreateConnector", err)
}

func (db *DB) findConnectors(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, cond string, args ...any) ([]*cmdb.ConnectorInstance, error) {
	var rows []connectorRow
	order := ` ORDER BY authority_id, name`
	if strings.HasSuffix(cond, " FOR UPDATE") {
		order = ""
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+connectorColumns+` FROM connector_instances WHERE `+cond+order, args...); err != nil {
		return nil, err
	}
	out := []*cmdb.ConnectorInstance{}
	for i := range rows {
		if !s.CanSeeAuthority(rows[i].AuthorityID) {
			continue
		}
		c, err := rows[i].toInstance()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// FindConnectors lists an authority's instances (0: every visible one).
func (db *DB) FindConnectors(ctx context.Context, s cmdb.Scope, authorityID int64) ([]*cmdb.ConnectorInstance, error) {
	out, err := db.findConnectors(ctx, db.db, s, `($1 = 0 OR authority_id = $1)`, authorityID)
	return out, mapErr("postgres.FindConnectors", err)
}

// FindConnectorByID returns one instance; ENOTFOUND outside the scope.
func (db *DB) FindConnectorByID(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.ConnectorInstance, error) {
	out, err := db.findConnectors(ctx, db.db, s, `id = $1`, id)
	if err != nil {
		return nil, mapErr("postgres.FindConnectorByID", err)
	} else if len(out) == 0 {
		return nil, notFound("connector", id)
	}
	return out[0], nil
}

// FindConnectorByName returns an authority's instance by name.
func (db *DB) FindConnectorByName(ctx context.Context, s cmdb.Scope, authorityID int64, name string) (*cmdb.ConnectorInstance, error) {
	out, err := db.findConnectors(ctx, db.db, s, `authority_id = $1 AND name = $2`, authorityID, name)
	if err != nil {
		return nil, mapErr("postgres.FindConnectorByName", err)
	} else if len(out) == 0 {
		return nil, &cmdb.Error{Code: cmdb.ENOTFOUND, Field: "name", Message: noSuch("connector", name)}
	}
	return out[0], nil
}

// UpdateConnector changes an instance; see cmdb.ConnectorStore.
func (db *DB) UpdateConnector(ctx context.Context, s cmdb.Scope, id int64, u cmdb.ConnectorUpdate) (*cmdb.ConnectorInstance, error) {
	var out *cmdb.ConnectorInstance
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		cs, err := db.findConnectors(ctx, tx, s, `id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		} else if len(cs) == 0 {
			return notFound("connector", id)
		}
		c := cs[0]
		oldSHA := c.BinarySHA256
		if u.Settings != nil {
			c.Settings = *u.Settings
		}
		if u.Schedule != nil {
			c.Schedule = *u.Schedule
		}
		if u.Mapping != nil {
			c.Mapping = *u.Mapping
		}
		if u.DeletePolicy != nil {
			c.DeletePolicy = *u.DeletePolicy
		}
		if u.DisposeAfterDays != nil {
			c.DisposeAfterDays = *u.DisposeAfterDays
		}
		if u.GuardShare != nil {
			c.GuardShare = *u.GuardShare
		}
		if u.BinaryPath != nil {
			c.BinaryPath = *u.BinaryPath
		}
		if u.BinarySHA256 != nil {
			c.BinarySHA256 = *u.BinarySHA256
		}
		if u.Push != nil {
			c.Push = *u.Push
		}
		if err := c.Validate(); err != nil {
			return err
		}
		if err := validSecrets(u.Secrets); err != nil {
			return err
		}
		var sealed []byte
		if len(u.Secrets) > 0 {
			secrets, err := db.connectorSecrets(ctx, tx, id)
			if err != nil {
				return err
			}
			for k, v := range u.Secrets {
				if v == "" {
					delete(secrets, k)
				} else {
					secrets[k] = v
				}
			}
			c.SecretNames = cmdb.SortedSecretNames(secrets)
			sealed = db.sealSecrets(secrets)
		}
		sum, _ := hex.DecodeString(c.BinarySHA256)
		c.UpdatedAt = db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE connector_instances SET settings = $2, schedule = $3, mapping = $4,
			delete_policy = $5, dispose_after_days = $6, guard_share = $7, binary_path = $8, binary_sha256 = $9,
			updated_at = $10, secrets_sealed = CASE WHEN $11 THEN $12 ELSE secrets_sealed END,
			secret_names = CASE WHEN $11 THEN $13 ELSE secret_names END, push = $14 WHERE id = $1`,
			id, []byte(c.Settings), c.Schedule, mustJSON(c.Mapping), c.DeletePolicy, c.DisposeAfterDays, c.GuardShare,
			c.BinaryPath, sum, c.UpdatedAt, len(u.Secrets) > 0, sealed, pq.Array(c.SecretNames), c.Push); err != nil {
			return err
		}
		changed := cmdb.SortedSecretNames(u.Secrets)
		out = c
		detail := map[string]any{"secrets_changed": changed, "push": c.Push}
		if c.BinarySHA256 != oldSHA {
			// A new pin (connector repin, add --replace) is a new program
			// that runs with the secrets: the log says which.
			detail["binary_path"], detail["binary_sha256"], detail["binary_sha256_was"] = c.BinaryPath, c.BinarySHA256, oldSHA
		}
		return audit(ctx, tx, s, "connector_updated", fmt.Sprintf("connector:%d", id), c.AuthorityID, detail, c.UpdatedAt)
	})
	if err != nil {
		return nil, mapErr("postgres.UpdateConnector", err)
	}
	return out, nil
}

// DeleteConnector removes an instance; see cmdb.ConnectorStore.
func (db *DB) DeleteConnector(ctx context.Context, s cmdb.Scope, id int64) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		cs, err := db.findConnectors(ctx, tx, s, `id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		} else if len(cs) == 0 {
			return notFound("connector", id)
		}
		var running bool
		if err := tx.GetContext(ctx, &running, `SELECT EXISTS (SELECT 1 FROM connector_runs WHERE instance_id = $1 AND status = 'running')`, id); err != nil {
			return err
		} else if running {
			return cmdb.Errorf(cmdb.ECONFLICT, "A sync of this connector is running; cancel it first.")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM connector_instances WHERE id = $1`, id); err != nil {
			return err
		}
		return audit(ctx, tx, s, "connector_deleted", fmt.Sprintf("connector:%d", id), cs[0].AuthorityID,
			map[string]any{"name": cs[0].Name}, db.now())
	})
	return mapErr("postgres.DeleteConnector", err)
}

// ConnectorSecrets returns the unsealed secrets of an instance.
func (db *DB) ConnectorSecrets(ctx context.Context, s cmdb.Scope, id int64) (map[string]string, error) {
	if _, err := db.FindConnectorByID(ctx, s, id); err != nil {
		return nil, err
	}
	m, err := db.connectorSecrets(ctx, db.db, id)
	return m, mapErr("postgres.ConnectorSecrets", err)
}

func (db *DB) connectorSecrets(ctx context.Context, q sqlx.QueryerContext, id int64) (map[string]string, error) {
	var sealed []byte
	if err := sqlx.GetContext(ctx, q, &sealed, `SELECT secrets_sealed FROM connector_instances WHERE id = $1`, id); err != nil {
		return nil, err
	}
	m := map[string]string{}
	if len(sealed) == 0 {
		return m, nil
	}
	plain, err := db.seal.open(sealed)
	if err != nil {
		// Never the ciphertext or the key in the message.
		return nil, errors.New("the connector's secrets cannot be unsealed with this server's secret key")
	}
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, errors.New("the connector's sealed secrets are damaged")
	}
	return m, nil
}

const runColumns = `id, instance_id, started_at, finished_at, status, dry_run, confirmed, started_by, seen, created, updated,
	unchanged, retired, conflicts, errors, expected, batches, progress, error_list, plan, peak_memory_bytes,
	plugin_memory_bytes, cancel_requested, failure, pushed, push_failures`

type runRow struct {
	ID                int64      `db:"id"`
	InstanceID        int64      `db:"instance_id"`
	AuthorityID       int64      `db:"authority_id"`
	StartedAt         time.Time  `db:"started_at"`
	FinishedAt        *time.Time `db:"finished_at"`
	Status            string     `db:"status"`
	DryRun            bool       `db:"dry_run"`
	Confirmed         bool       `db:"confirmed"`
	StartedBy         string     `db:"started_by"`
	Seen              int        `db:"seen"`
	Created           int        `db:"created"`
	Updated           int        `db:"updated"`
	Unchanged         int        `db:"unchanged"`
	Retired           int        `db:"retired"`
	Conflicts         int        `db:"conflicts"`
	Errors            int        `db:"errors"`
	Expected          int        `db:"expected"`
	Batches           int        `db:"batches"`
	Progress          float64    `db:"progress"`
	ErrorList         []byte     `db:"error_list"`
	Plan              []byte     `db:"plan"`
	PeakMemoryBytes   int64      `db:"peak_memory_bytes"`
	PluginMemoryBytes int64      `db:"plugin_memory_bytes"`
	CancelRequested   bool       `db:"cancel_requested"`
	Failure           string     `db:"failure"`
	Pushed            int        `db:"pushed"`
	PushFailures      int        `db:"push_failures"`
}

func (r *runRow) toRun() *cmdb.ConnectorRun {
	out := &cmdb.ConnectorRun{ID: r.ID, InstanceID: r.InstanceID, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Status: r.Status, DryRun: r.DryRun, Confirmed: r.Confirmed, StartedBy: r.StartedBy,
		RunCounters: cmdb.RunCounters{Seen: r.Seen, Created: r.Created, Updated: r.Updated, Unchanged: r.Unchanged,
			Retired: r.Retired, Conflicts: r.Conflicts, Errors: r.Errors, Pushed: r.Pushed, PushFailures: r.PushFailures},
		Expected: r.Expected, Batches: r.Batches, Progress: r.Progress, PeakMemoryBytes: r.PeakMemoryBytes,
		PluginMemoryBytes: r.PluginMemoryBytes, CancelRequested: r.CancelRequested, Failure: r.Failure}
	_ = json.Unmarshal(r.ErrorList, &out.ErrorList)
	if out.ErrorList == nil {
		out.ErrorList = []cmdb.RunError{}
	}
	if len(r.Plan) > 0 {
		out.Plan = &cmdb.RunPlan{}
		_ = json.Unmarshal(r.Plan, out.Plan)
	}
	return out
}

// staleRun is how long a running run may go without a heartbeat before
// a new run takes over: its server stopped during the run.
const staleRun = 10 * time.Minute

// StartConnectorRun records a new run; see cmdb.ConnectorStore.
func (db *DB) StartConnectorRun(ctx context.Context, s cmdb.Scope, r *cmdb.ConnectorRun) error {
	inst, err := db.FindConnectorByID(ctx, s, r.InstanceID)
	if err != nil {
		return err
	}
	now := db.now()
	r.StartedAt, r.Status, r.StartedBy = now, cmdb.RunRunning, s.Subject
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE connector_runs SET status = 'failed', finished_at = $2,
			failure = 'The server stopped during the run.' WHERE instance_id = $1 AND status = 'running' AND heartbeat_at < $3`,
			inst.ID, now, now.Add(-staleRun)); err != nil {
			return err
		}
		return tx.QueryRowxContext(ctx, `INSERT INTO connector_runs (instance_id, authority_id, started_at, heartbeat_at, status,
			dry_run, confirmed, started_by, expected) VALUES ($1, $2, $3, $3, 'running', $4, $5, $6, $7) RETURNING id`,
			inst.ID, inst.AuthorityID, now, r.DryRun, r.Confirmed, r.StartedBy, r.Expected).Scan(&r.ID)
	})
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23505" {
		return cmdb.Errorf(cmdb.ECONFLICT, "A sync of connector %q is already running.", inst.Name)
	}
	return mapErr("postgres.StartConnectorRun", err)
}

// visibleRun checks the run's instance against the scope.
func (db *DB) visibleRun(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, id int64) (*runRow, error) {
	var row runRow
	err := sqlx.GetContext(ctx, q, &row, `SELECT `+runColumns+`, authority_id FROM connector_runs WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !s.CanSeeAuthority(row.AuthorityID)) {
		return nil, notFound("run", id)
	}
	return &row, err
}

// UpdateConnectorRun writes a running run's counters; see cmdb.ConnectorStore.
func (db *DB) UpdateConnectorRun(ctx context.Context, s cmdb.Scope, r *cmdb.ConnectorRun) (bool, error) {
	var cancel bool
	err := db.db.GetContext(ctx, &cancel, `UPDATE connector_runs SET heartbeat_at = $2, seen = $3, created = $4,
		updated = $5, unchanged = $6, retired = $7, conflicts = $8, errors = $9, expected = $10, batches = $11,
		progress = $12, peak_memory_bytes = $13, plugin_memory_bytes = $14, pushed = $17, push_failures = $18
		WHERE id = $1 AND status = 'running' AND authority_id = ANY($15) OR (id = $1 AND status = 'running' AND $16)
		RETURNING cancel_requested`,
		r.ID, db.now(), r.Seen, r.Created, r.Updated, r.Unchanged, r.Retired, r.Conflicts, r.Errors, r.Expected,
		r.Batches, r.Progress, r.PeakMemoryBytes, r.PluginMemoryBytes, pq.Array(s.Authorities), s.Admin, r.Pushed, r.PushFailures)
	if errors.Is(err, sql.ErrNoRows) {
		return false, notFound("running run", r.ID)
	}
	return cancel, mapErr("postgres.UpdateConnectorRun", err)
}

// FinishConnectorRun writes a run's final state; see cmdb.ConnectorStore.
func (db *DB) FinishConnectorRun(ctx context.Context, s cmdb.Scope, r *cmdb.ConnectorRun) error {
	if _, err := db.visibleRun(ctx, db.db, s, r.ID); err != nil {
		return err
	}
	now := db.now()
	r.FinishedAt = &now
	errs := r.ErrorList
	if errs == nil {
		errs = []cmdb.RunError{}
	}
	var plan []byte
	if r.Plan != nil {
		plan = mustJSON(r.Plan)
	}
	_, err := db.db.ExecContext(ctx, `UPDATE connector_runs SET finished_at = $2, heartbeat_at = $2, status = $3, seen = $4,
		created = $5, updated = $6, unchanged = $7, retired = $8, conflicts = $9, errors = $10, expected = $11,
		batches = $12, progress = $13, peak_memory_bytes = $14, plugin_memory_bytes = $15, error_list = $16,
		plan = $17, failure = $18, pushed = $19, push_failures = $20 WHERE id = $1`,
		r.ID, now, r.Status, r.Seen, r.Created, r.Updated, r.Unchanged, r.Retired, r.Conflicts, r.Errors, r.Expected,
		r.Batches, r.Progress, r.PeakMemoryBytes, r.PluginMemoryBytes, mustJSON(errs), plan, r.Failure, r.Pushed, r.PushFailures)
	return mapErr("postgres.FinishConnectorRun", err)
}

// FindConnectorRuns lists an instance's runs, newest first.
func (db *DB) FindConnectorRuns(ctx context.Context, s cmdb.Scope, instanceID int64, limit int) ([]*cmdb.ConnectorRun, error) {
	if _, err := db.FindConnectorByID(ctx, s, instanceID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var rows []runRow
	err := db.db.SelectContext(ctx, &rows, `SELECT `+runColumns+`, authority_id FROM connector_runs WHERE instance_id = $1
		ORDER BY id DESC LIMIT $2`, instanceID, limit)
	out := make([]*cmdb.ConnectorRun, len(rows))
	for i := range rows {
		out[i] = rows[i].toRun()
	}
	return out, mapErr("postgres.FindConnectorRuns", err)
}

// FindConnectorRun returns one run; ENOTFOUND outside the scope.
func (db *DB) FindConnectorRun(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.ConnectorRun, error) {
	row, err := db.visibleRun(ctx, db.db, s, id)
	if err != nil {
		return nil, mapErr("postgres.FindConnectorRun", err)
	}
	return row.toRun(), nil
}

// CancelConnectorRun asks a running run to stop.
func (db *DB) CancelConnectorRun(ctx context.Context, s cmdb.Scope, id int64) error {
	row, err := db.visibleRun(ctx, db.db, s, id)
	if err != nil {
		return mapErr("postgres.CancelConnectorRun", err)
	} else if row.Status != cmdb.RunRunning {
		return cmdb.Errorf(cmdb.ECONFLICT, "Run %d is not running (it is %s).", id, row.Status)
	}
	_, err = db.db.ExecContext(ctx, `UPDATE connector_runs SET cancel_requested = true WHERE id = $1`, id)
	return mapErr("postgres.CancelConnectorRun", err)
}

// ConnectorReplica returns the instance's replica; see cmdb.ConnectorStore.
func (db *DB) ConnectorReplica(ctx context.Context, s cmdb.Scope, instanceID int64) (map[string]*cmdb.ReplicaRecord, error) {
	if _, err := db.FindConnectorByID(ctx, s, instanceID); err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, `SELECT r.native_key, coalesce(r.ci_id, 0), r.hash,
			CASE WHEN r.state = 'active' THEN greatest(r.last_seen, i.last_synced_at) ELSE r.last_seen END,
			r.state, r.gone_since, r.last_error, r.view_at IS NOT NULL
		FROM connector_records r JOIN connector_instances i ON i.id = r.instance_id WHERE r.instance_id = $1`, instanceID)
	if err != nil {
		return nil, mapErr("postgres.ConnectorReplica", err)
	}
	defer rows.Close()
	out := map[string]*cmdb.ReplicaRecord{}
	for rows.Next() {
		r := &cmdb.ReplicaRecord{}
		var gone *time.Time
		if err := rows.Scan(&r.NativeKey, &r.CIID, &r.Hash, &r.LastSeen, &r.State, &gone, &r.LastError, &r.ViewKnown); err != nil {
			return nil, mapErr("postgres.ConnectorReplica", err)
		}
		if gone != nil {
			r.GoneSince = *gone
		}
		out[r.NativeKey] = r
	}
	return out, mapErr("postgres.ConnectorReplica", rows.Err())
}
