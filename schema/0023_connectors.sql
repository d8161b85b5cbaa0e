-- Connector instances of an authority (its own inventory system kept in
-- sync through a connector plugin), the replica of every record a
-- connector delivered, and the log of every sync run.

-- One configured connector. The plugin binary is pinned by its SHA-256:
-- a replaced executable is refused before it runs. Secrets are sealed
-- (AES-GCM under the server key) as one JSON object; secret_names lists
-- which are set, for the API, which never shows a secret. mapping is
-- cmdb.ConnectorMapping as JSON (field, value, school and room mapping,
-- the attributes this source may set).
CREATE TABLE connector_instances (
    id                 bigserial PRIMARY KEY,
    authority_id       bigint NOT NULL REFERENCES authorities (id),
    name               text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,47}$'),
    plugin             text NOT NULL CHECK (length(plugin) BETWEEN 1 AND 64),
    binary_path        text NOT NULL CHECK (length(binary_path) BETWEEN 1 AND 1024),
    binary_sha256      bytea NOT NULL CHECK (length(binary_sha256) = 32),
    settings           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    secrets_sealed     bytea,
    secret_names       text[] NOT NULL DEFAULT '{}',
    schedule           text NOT NULL DEFAULT '' CHECK (length(schedule) <= 100),
    mapping            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(mapping) = 'object'),
    delete_policy      text NOT NULL DEFAULT 'ignore' CHECK (delete_policy IN ('ignore', 'retire', 'retire_dispose')),
    dispose_after_days int NOT NULL DEFAULT 0 CHECK (dispose_after_days BETWEEN 0 AND 3650),
    guard_share        double precision NOT NULL DEFAULT 0.10 CHECK (guard_share > 0 AND guard_share <= 1),
    -- When the last run that applied its delete policy ended: every
    -- active record was seen then (see connector_records.last_seen).
    last_synced_at     timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    created_by         text NOT NULL,
    UNIQUE (authority_id, name)
);

-- What the connector delivered last, per record: the CI it landed on and
-- a hash of the mapped record, so that an unchanged record costs no
-- reconcile. last_seen is written when the record is written; an active
-- record was also seen at its instance's last_synced_at, so an unchanged
-- record costs no write at all. state: active (delivered by the last
-- run), error (could not
-- be applied; hash 0 so it is tried again), gone (disappeared, policy
-- ignore), retired, disposed.
CREATE TABLE connector_records (
    instance_id bigint NOT NULL REFERENCES connector_instances (id) ON DELETE CASCADE,
    native_key  text NOT NULL,
    ci_id       bigint REFERENCES cis (id) ON DELETE SET NULL,
    hash        bigint NOT NULL,
    last_seen   timestamptz NOT NULL,
    state       text NOT NULL CHECK (state IN ('active', 'error', 'gone', 'retired', 'disposed')),
    gone_since  timestamptz,
    last_error  text NOT NULL DEFAULT '',
    PRIMARY KEY (instance_id, native_key)
);

-- The run log. errors holds the first entries (record origin, field,
-- rule, message); the counter counts all. plan is a dry run's diff.
CREATE TABLE connector_runs (
    id                 bigserial PRIMARY KEY,
    instance_id        bigint NOT NULL REFERENCES connector_instances (id) ON DELETE CASCADE,
    authority_id       bigint NOT NULL REFERENCES authorities (id),
    started_at         timestamptz NOT NULL,
    finished_at        timestamptz,
    heartbeat_at       timestamptz NOT NULL,
    status             text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'refused')),
    dry_run            boolean NOT NULL DEFAULT false,
    confirmed          boolean NOT NULL DEFAULT false,
    started_by         text NOT NULL,
    seen               int NOT NULL DEFAULT 0,
    created            int NOT NULL DEFAULT 0,
    updated            int NOT NULL DEFAULT 0,
    unchanged          int NOT NULL DEFAULT 0,
    retired            int NOT NULL DEFAULT 0,
    conflicts          int NOT NULL DEFAULT 0,
    errors             int NOT NULL DEFAULT 0,
    expected           int NOT NULL DEFAULT 0,
    batches            int NOT NULL DEFAULT 0,
    progress           real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    error_list         jsonb NOT NULL DEFAULT '[]',
    plan               jsonb,
    peak_memory_bytes  bigint NOT NULL DEFAULT 0,
    plugin_memory_bytes bigint NOT NULL DEFAULT 0,
    cancel_requested   boolean NOT NULL DEFAULT false,
    failure            text NOT NULL DEFAULT ''
);

-- At most one run per instance at a time.
CREATE UNIQUE INDEX connector_runs_one_running ON connector_runs (instance_id) WHERE status = 'running';
CREATE INDEX connector_runs_instance ON connector_runs (instance_id, id DESC);
