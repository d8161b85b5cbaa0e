-- Accounts: users, memberships, sessions, scoped API tokens, audit log,
-- per-authority OpenID Connect sign-in, and sign-in throttling.

CREATE TABLE users (
    id              bigserial PRIMARY KEY,
    email           text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    name            text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    password_hash   text,
    disabled        boolean NOT NULL DEFAULT false,
    failed_sign_ins int NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz
);

-- External identities (OpenID Connect issuer + subject) of users.
CREATE TABLE user_identities (
    issuer     text NOT NULL,
    subject    text NOT NULL,
    user_id    bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);

-- A membership names exactly one organisation, of the kind its role needs;
-- authority_id is the authority it lies in (NULL for providers and the platform).
CREATE TABLE memberships (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    role         text NOT NULL CHECK (role IN ('teacher', 'school_it', 'authority_it', 'provider', 'admin')),
    org_kind     text NOT NULL CHECK (org_kind IN ('platform', 'authority', 'school', 'provider')),
    org_id       bigint NOT NULL DEFAULT 0,
    authority_id bigint REFERENCES authorities (id),
    school_id    bigint REFERENCES schools (id),
    provider_id  bigint REFERENCES providers (id),
    source       text NOT NULL DEFAULT 'local',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, role, org_kind, org_id),
    CHECK ((role IN ('teacher', 'school_it') AND org_kind = 'school' AND school_id = org_id AND authority_id IS NOT NULL)
        OR (role = 'authority_it' AND org_kind = 'authority' AND authority_id = org_id)
        OR (role = 'provider' AND org_kind = 'provider' AND provider_id = org_id)
        OR (role = 'admin' AND org_kind = 'platform' AND org_id = 0)),
    FOREIGN KEY (school_id, authority_id) REFERENCES schools (id, authority_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
CREATE INDEX memberships_authority ON memberships (authority_id);

-- Browser sessions. Only a SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    id           bigserial PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    user_id      bigint NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

-- API tokens get an owner (or none: an integration's), a role and an
-- organisation. Tokens made before accounts existed were platform admin tokens.
ALTER TABLE api_tokens
    ADD COLUMN user_id      bigint REFERENCES users (id),
    ADD COLUMN role         text,
    ADD COLUMN org_kind     text,
    ADD COLUMN org_id       bigint NOT NULL DEFAULT 0,
    ADD COLUMN authority_id bigint REFERENCES authorities (id),
    ADD COLUMN created_by   text NOT NULL DEFAULT 'cli',
    ADD COLUMN last_used_at timestamptz;
UPDATE api_tokens SET role = CASE WHEN admin THEN 'admin' ELSE 'teacher' END,
                      org_kind = CASE WHEN admin THEN 'platform' ELSE 'school' END,
                      revoked_at = CASE WHEN admin THEN revoked_at ELSE coalesce(revoked_at, now()) END;
ALTER TABLE api_tokens
    ALTER COLUMN role SET NOT NULL,
    ALTER COLUMN org_kind SET NOT NULL,
    DROP COLUMN admin,
    ADD CHECK (role IN ('teacher', 'school_it', 'authority_it', 'provider', 'admin')),
    ADD CHECK (org_kind IN ('platform', 'authority', 'school', 'provider'));

CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL,
    actor        text NOT NULL,
    action       text NOT NULL,
    target       text NOT NULL DEFAULT '',
    authority_id bigint REFERENCES authorities (id),
    ip           text NOT NULL DEFAULT '',
    detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_authority ON audit_log (authority_id, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- OpenID Connect sign-in of an authority. The client secret is encrypted
-- (AES-256-GCM) with the server's secret key.
CREATE TABLE oidc_configs (
    authority_id      bigint PRIMARY KEY REFERENCES authorities (id),
    issuer            text NOT NULL CHECK (issuer LIKE 'http%'),
    client_id         text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 200),
    client_secret_enc bytea NOT NULL,
    scopes            text[] NOT NULL DEFAULT '{}',
    rules             jsonb NOT NULL DEFAULT '[]',
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Failed sign-ins per client address, for throttling across replicas.
CREATE TABLE sign_in_throttle (
    ip           text PRIMARY KEY,
    failures     int NOT NULL DEFAULT 0,
    window_start timestamptz NOT NULL,
    locked_until timestamptz
);
