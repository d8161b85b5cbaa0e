-- Device agents: per-school enrolment tokens, enrolled devices with their
-- credential and report state, and the software catalogue.

CREATE TABLE enrolment_tokens (
    id           bigserial PRIMARY KEY,
    authority_id bigint NOT NULL,
    school_id    bigint NOT NULL,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    token_hash   bytea NOT NULL UNIQUE,
    max_uses     int NOT NULL CHECK (max_uses BETWEEN 1 AND 100000),
    uses         int NOT NULL DEFAULT 0,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    FOREIGN KEY (school_id, authority_id) REFERENCES schools (id, authority_id),
    CHECK (uses <= max_uses)
);

CREATE TABLE devices (
    id               uuid PRIMARY KEY,
    authority_id     bigint NOT NULL REFERENCES authorities (id),
    school_id        bigint NOT NULL REFERENCES schools (id),
    ci_id            bigint NOT NULL REFERENCES cis (id),
    credential_hash  bytea NOT NULL UNIQUE,
    enrolment_token  bigint REFERENCES enrolment_tokens (id),
    created_at       timestamptz NOT NULL,
    last_seq         bigint NOT NULL DEFAULT 0,
    last_report_at   timestamptz,
    hashes           jsonb NOT NULL DEFAULT '{}',
    interval_seconds int NOT NULL DEFAULT 3600,
    revoked_at       timestamptz
);
CREATE INDEX devices_ci ON devices (ci_id);

-- One row per distinct (name, publisher, version) ever reported.
CREATE TABLE software (
    id        bigserial PRIMARY KEY,
    name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    publisher text NOT NULL DEFAULT '' CHECK (length(publisher) <= 300),
    version   text NOT NULL DEFAULT '' CHECK (length(version) <= 200),
    UNIQUE (name, publisher, version)
);

CREATE TABLE ci_software (
    ci_id       bigint NOT NULL REFERENCES cis (id),
    software_id bigint NOT NULL REFERENCES software (id),
    first_seen  timestamptz NOT NULL,
    PRIMARY KEY (ci_id, software_id)
);
CREATE INDEX ci_software_software ON ci_software (software_id);
