-- CMDB core: tenant tree, configuration items, identifiers, history,
-- locks, duplicate candidates, relations and admin API tokens.

CREATE TABLE authorities (
    id         bigserial PRIMARY KEY,
    code       text NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 32),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE schools (
    id           bigserial PRIMARY KEY,
    authority_id bigint NOT NULL REFERENCES authorities (id),
    code         text NOT NULL CHECK (length(code) BETWEEN 1 AND 32),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    UNIQUE (authority_id, code),
    UNIQUE (id, authority_id)
);

CREATE TABLE buildings (
    id        bigserial PRIMARY KEY,
    school_id bigint NOT NULL REFERENCES schools (id),
    code      text NOT NULL CHECK (length(code) BETWEEN 1 AND 32),
    name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    UNIQUE (school_id, code),
    UNIQUE (id, school_id)
);

CREATE TABLE rooms (
    id           bigserial PRIMARY KEY,
    building_id  bigint NOT NULL,
    school_id    bigint NOT NULL,
    authority_id bigint NOT NULL,
    code         text NOT NULL CHECK (length(code) BETWEEN 1 AND 32),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    FOREIGN KEY (building_id, school_id) REFERENCES buildings (id, school_id),
    FOREIGN KEY (school_id, authority_id) REFERENCES schools (id, authority_id),
    UNIQUE (building_id, code),
    UNIQUE (id, school_id)
);
CREATE INDEX rooms_school ON rooms (school_id);

CREATE TABLE providers (
    id   bigserial PRIMARY KEY,
    code text NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 32),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200)
);

CREATE TABLE provider_contracts (
    provider_id  bigint NOT NULL REFERENCES providers (id),
    authority_id bigint NOT NULL REFERENCES authorities (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_id, authority_id)
);

CREATE TABLE cis (
    id            bigserial PRIMARY KEY,
    authority_id  bigint NOT NULL REFERENCES authorities (id),
    school_id     bigint,
    room_id       bigint,
    class         text NOT NULL CHECK (class IN ('laptop', 'desktop', 'tablet', 'printer', 'mfp', 'projector',
                      'interactive_display', 'document_camera', 'access_point', 'switch', 'other')),
    status        text NOT NULL CHECK (status IN ('planned', 'in_stock', 'in_use', 'in_repair', 'retired', 'disposed')),
    name          text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    vendor        text NOT NULL DEFAULT '' CHECK (length(vendor) <= 200),
    model         text NOT NULL DEFAULT '' CHECK (length(model) <= 200),
    serial        text NOT NULL DEFAULT '' CHECK (length(serial) <= 200),
    asset_tag     text NOT NULL DEFAULT '' CHECK (length(asset_tag) <= 200),
    hostname      text NOT NULL DEFAULT '' CHECK (length(hostname) <= 200),
    hardware_uuid text NOT NULL DEFAULT '' CHECK (length(hardware_uuid) <= 36),
    os_name       text NOT NULL DEFAULT '' CHECK (length(os_name) <= 200),
    os_version    text NOT NULL DEFAULT '' CHECK (length(os_version) <= 200),
    owner         text NOT NULL DEFAULT '' CHECK (length(owner) <= 200),
    purchase_date date,
    warranty_end  date,
    attributes    jsonb NOT NULL DEFAULT '{}',
    provenance    jsonb NOT NULL DEFAULT '{}',
    merged_into   bigint REFERENCES cis (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- A CI's school lies in its authority and its room in its school.
    FOREIGN KEY (school_id, authority_id) REFERENCES schools (id, authority_id),
    FOREIGN KEY (room_id, school_id) REFERENCES rooms (id, school_id),
    CHECK (room_id IS NULL OR school_id IS NOT NULL),
    CHECK (merged_into IS NULL OR merged_into <> id)
);
CREATE INDEX cis_authority ON cis (authority_id, id) WHERE merged_into IS NULL;
CREATE INDEX cis_school ON cis (school_id, id) WHERE merged_into IS NULL;
CREATE INDEX cis_room ON cis (room_id) WHERE merged_into IS NULL;
CREATE INDEX cis_merged_into ON cis (merged_into) WHERE merged_into IS NOT NULL;

-- Identifiers are normalised: serials upper-case without spaces (vendor
-- qualifies them), MACs aa:bb:cc:dd:ee:ff, UUIDs lower-case 8-4-4-4-12,
-- hostnames lower-case without domain (school_id qualifies them), source
-- keys "<source>|<key>". school_id is 0 where it does not apply.
CREATE TABLE ci_identifiers (
    ci_id        bigint NOT NULL REFERENCES cis (id),
    authority_id bigint NOT NULL REFERENCES authorities (id),
    kind         text NOT NULL CHECK (kind IN ('source_key', 'serial', 'hardware_uuid', 'mac', 'hostname', 'asset_tag')),
    value        text NOT NULL CHECK (length(value) BETWEEN 1 AND 300),
    vendor       text NOT NULL DEFAULT '',
    school_id    bigint NOT NULL DEFAULT 0,
    source       text NOT NULL,
    first_seen   timestamptz NOT NULL,
    PRIMARY KEY (ci_id, kind, value, school_id)
);
CREATE INDEX ci_identifiers_lookup ON ci_identifiers (authority_id, kind, value);
-- A source's own key names one CI per authority.
CREATE UNIQUE INDEX ci_identifiers_source_key ON ci_identifiers (authority_id, value) WHERE kind = 'source_key';

-- When each source last observed each CI: the basis of staleness.
CREATE TABLE ci_sources (
    ci_id     bigint NOT NULL REFERENCES cis (id),
    source    text NOT NULL,
    last_seen timestamptz NOT NULL,
    PRIMARY KEY (ci_id, source)
);

CREATE TABLE ci_locks (
    ci_id     bigint NOT NULL REFERENCES cis (id),
    attr      text NOT NULL,
    value     text NOT NULL DEFAULT '',
    locked_by text NOT NULL,
    locked_at timestamptz NOT NULL,
    PRIMARY KEY (ci_id, attr)
);

CREATE TABLE ci_history (
    id     bigserial PRIMARY KEY,
    ci_id  bigint NOT NULL REFERENCES cis (id),
    attr   text NOT NULL,
    old    text,
    new    text,
    source text NOT NULL,
    at     timestamptz NOT NULL
);
CREATE INDEX ci_history_ci ON ci_history (ci_id, id DESC);

-- History is append-only: no row is ever changed or removed.
CREATE FUNCTION ci_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ci_history is append-only';
END $$;
CREATE TRIGGER ci_history_append_only BEFORE UPDATE OR DELETE ON ci_history
    FOR EACH ROW EXECUTE FUNCTION ci_history_append_only();

CREATE TABLE ci_relations (
    id           bigserial PRIMARY KEY,
    authority_id bigint NOT NULL REFERENCES authorities (id),
    from_ci      bigint NOT NULL REFERENCES cis (id),
    to_ci        bigint NOT NULL REFERENCES cis (id),
    kind         text NOT NULL CHECK (kind IN ('connected_to', 'installed_on', 'part_of')),
    source       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (from_ci, to_ci, kind),
    CHECK (from_ci <> to_ci)
);
CREATE INDEX ci_relations_to ON ci_relations (to_ci);

CREATE TABLE duplicate_candidates (
    id           bigserial PRIMARY KEY,
    authority_id bigint NOT NULL REFERENCES authorities (id),
    ci_a         bigint NOT NULL REFERENCES cis (id),
    ci_b         bigint NOT NULL REFERENCES cis (id),
    rule         text NOT NULL,
    detail       text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'merged', 'dismissed')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    resolved_by  text,
    resolved_at  timestamptz,
    CHECK (ci_a < ci_b)
);
CREATE UNIQUE INDEX duplicate_candidates_pair ON duplicate_candidates (ci_a, ci_b) WHERE status <> 'merged';
CREATE INDEX duplicate_candidates_open ON duplicate_candidates (authority_id, id) WHERE status = 'open';

-- Identifier values that identify nothing. Kept as data: operators add
-- what their devices report. Values as reported; the server normalises.
CREATE TABLE junk_identifiers (
    kind  text NOT NULL CHECK (kind IN ('serial', 'hardware_uuid')),
    value text NOT NULL,
    PRIMARY KEY (kind, value)
);
INSERT INTO junk_identifiers (kind, value) VALUES
    ('serial', '0'), ('serial', 'N/A'), ('serial', 'NA'), ('serial', 'None'), ('serial', 'NULL'),
    ('serial', 'Unknown'), ('serial', 'Default'), ('serial', 'Default string'),
    ('serial', 'To Be Filled By O.E.M.'), ('serial', 'System Serial Number'), ('serial', 'Not Specified'),
    ('serial', 'Not Available'), ('serial', '123456789'), ('serial', '1234567890'), ('serial', '0123456789'),
    ('serial', 'Chassis Serial Number'), ('serial', 'Invalid'), ('serial', 'SerialNumber'),
    ('serial', 'System Serial#'), ('serial', 'OEM'), ('serial', 'O.E.M.'), ('serial', 'Type1ProductConfigId'),
    ('serial', 'Base Board Serial Number'), ('serial', 'empty'), ('serial', 'none'),
    ('hardware_uuid', '03000200-0400-0500-0006-000700080009'),
    ('hardware_uuid', '12345678-1234-5678-90ab-cddeefaabbcc');

-- Hardware UUIDs seen on devices with different serials (cloned images,
-- VMs): ignored for identification from then on.
CREATE TABLE cloned_uuids (
    authority_id bigint NOT NULL REFERENCES authorities (id),
    uuid         text NOT NULL,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (authority_id, uuid)
);

-- Bearer tokens for the API. Only a SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    token_hash bytea NOT NULL UNIQUE,
    admin      boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz
);
