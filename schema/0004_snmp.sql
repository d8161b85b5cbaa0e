-- SNMP polling: per-school credential profiles (secrets encrypted with the
-- server key), targets, discovery ranges, metrics as time series, and
-- health events.

CREATE TABLE snmp_credentials (
    id           bigserial PRIMARY KEY,
    authority_id bigint NOT NULL,
    school_id    bigint NOT NULL,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    version      text NOT NULL CHECK (version IN ('1', '2c', '3')),
    v3_user      text NOT NULL DEFAULT '',
    auth_proto   text NOT NULL DEFAULT '',
    priv_proto   text NOT NULL DEFAULT '',
    secrets_enc  bytea NOT NULL,
    position     int NOT NULL,
    created_at   timestamptz NOT NULL,
    FOREIGN KEY (school_id, authority_id) REFERENCES schools (id, authority_id)
);
CREATE INDEX snmp_credentials_school ON snmp_credentials (school_id, position);

CREATE TABLE snmp_targets (
    id           bigserial PRIMARY KEY,
    authority_id bigint NOT NULL,
    school_id    bigint NOT NULL,
    address      text NOT NULL CHECK (length(address) BETWEEN 1 AND 255),
    kind         text NOT NULL CHECK (kind IN ('snmp', 'pjlink')),
    ci_id        bigint REFERENCES cis (id),
    misses       int NOT NULL DEFAULT 0,
    unreachable  boolean NOT NULL DEFAULT false,
    health_state jsonb NOT NULL DEFAULT '{}',
    last_poll_at timestamptz,
    last_ok_at   timestamptz,
    discovered   boolean NOT NULL DEFAULT false,
    FOREIGN KEY (school_id, authority_id) REFERENCES schools (id, authority_id),
    UNIQUE (school_id, address, kind)
);

CREATE TABLE snmp_ranges (
    id           bigserial PRIMARY KEY,
    authority_id bigint NOT NULL,
    school_id    bigint NOT NULL,
    cidr         cidr NOT NULL CHECK ((family(cidr) = 4 AND masklen(cidr) >= 22) OR (family(cidr) = 6 AND masklen(cidr) >= 118)),
    FOREIGN KEY (school_id, authority_id) REFERENCES schools (id, authority_id),
    UNIQUE (school_id, cidr)
);

-- Metrics of a CI over time: page counters, supply levels, status, error bits.
CREATE TABLE ci_metrics (
    ci_id bigint NOT NULL REFERENCES cis (id),
    name  text NOT NULL,
    at    timestamptz NOT NULL,
    value double precision NOT NULL,
    PRIMARY KEY (ci_id, name, at)
);

CREATE TABLE ci_health_events (
    id      bigserial PRIMARY KEY,
    ci_id   bigint NOT NULL REFERENCES cis (id),
    kind    text NOT NULL,
    subject text NOT NULL DEFAULT '',
    open    boolean NOT NULL,
    at      timestamptz NOT NULL,
    detail  text NOT NULL DEFAULT ''
);
CREATE INDEX ci_health_events_ci ON ci_health_events (ci_id, id DESC);
