-- Tickets: incidents and service requests on CIs and rooms, with their
-- comments, watchers, full change history, per-class categories (data,
-- not code) and a readable number per authority and year.

-- Categories per CI class. authority_id NULL: the platform's defaults,
-- seen by every authority; an authority's own rows come later.
-- Class 'general' holds categories that fit any ticket (no device).
CREATE TABLE ticket_categories (
    id           bigserial PRIMARY KEY,
    authority_id bigint REFERENCES authorities (id),
    class        text NOT NULL CHECK (class IN ('general', 'laptop', 'desktop', 'tablet', 'printer', 'mfp', 'projector',
                     'interactive_display', 'document_camera', 'access_point', 'switch', 'other')),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position     int NOT NULL DEFAULT 0,
    active       boolean NOT NULL DEFAULT true
);
CREATE UNIQUE INDEX ticket_categories_name ON ticket_categories (coalesce(authority_id, 0), class, name);

INSERT INTO ticket_categories (class, name, position)
SELECT c.class, n.name, n.ord
FROM (VALUES
    ('printer', ARRAY['Papierstau', 'Kein Toner', 'Druckt nicht', 'Schlechte Druckqualität', 'Sonstiges']),
    ('mfp', ARRAY['Papierstau', 'Kein Toner', 'Druckt nicht', 'Scannt nicht', 'Schlechte Druckqualität', 'Sonstiges']),
    ('projector', ARRAY['Kein Bild', 'Lampe', 'Fernbedienung', 'Bild unscharf', 'Sonstiges']),
    ('interactive_display', ARRAY['Kein Bild', 'Touch reagiert nicht', 'Kein Ton', 'Sonstiges']),
    ('document_camera', ARRAY['Kein Bild', 'Bild unscharf', 'Sonstiges']),
    ('laptop', ARRAY['Startet nicht', 'Display', 'Tastatur', 'Akku', 'Software', 'Netzwerk', 'Sonstiges']),
    ('desktop', ARRAY['Startet nicht', 'Bildschirm', 'Tastatur/Maus', 'Software', 'Netzwerk', 'Sonstiges']),
    ('tablet', ARRAY['Startet nicht', 'Display', 'Akku', 'App/Software', 'Sonstiges']),
    ('access_point', ARRAY['Kein WLAN', 'WLAN langsam', 'Sonstiges']),
    ('switch', ARRAY['Kein Netzwerk', 'Sonstiges']),
    ('other', ARRAY['Defekt', 'Sonstiges']),
    ('general', ARRAY['Kein Netzwerk im Raum', 'Benutzerkonto', 'Neues Gerät', 'Software-Installation', 'Sonstiges'])
) AS c (class, names),
LATERAL unnest(c.names) WITH ORDINALITY AS n (name, ord);

-- The last number issued per authority and year; a number is issued in
-- the transaction that creates its ticket and tickets are never deleted,
-- so no number is ever issued twice.
CREATE TABLE ticket_numbers (
    authority_id bigint NOT NULL REFERENCES authorities (id),
    year         int NOT NULL CHECK (year BETWEEN 2000 AND 9999),
    last         int NOT NULL CHECK (last BETWEEN 1 AND 99999),
    PRIMARY KEY (authority_id, year)
);

CREATE TABLE tickets (
    id               bigserial PRIMARY KEY,
    authority_id     bigint NOT NULL REFERENCES authorities (id),
    school_id        bigint,
    room_id          bigint,
    number           text NOT NULL UNIQUE,
    type             text NOT NULL CHECK (type IN ('incident', 'request')),
    title            text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    category_id      bigint NOT NULL REFERENCES ticket_categories (id),
    impact           int NOT NULL CHECK (impact BETWEEN 1 AND 3),
    urgency          int NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    priority         int NOT NULL CHECK (priority BETWEEN 1 AND 5),
    status           text NOT NULL CHECK (status IN ('new', 'assigned', 'in_progress', 'waiting', 'resolved', 'closed')),
    level            int NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 3),
    -- The assignee group: the authority's IT when NULL, else a provider
    -- (with a contract for the authority).
    provider_id      bigint,
    assignee_user_id bigint REFERENCES users (id),
    channel          text NOT NULL CHECK (channel IN ('portal', 'email', 'phone', 'api', 'monitoring')),
    reporter_user_id bigint REFERENCES users (id),
    on_behalf_of     text NOT NULL DEFAULT '' CHECK (length(on_behalf_of) <= 200),
    created_by       text NOT NULL,
    idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    -- A digest of the request made with the key: the same key with another
    -- request is refused rather than answered with the first ticket.
    request_digest   text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    resolved_at      timestamptz,
    closed_at        timestamptz,
    FOREIGN KEY (school_id, authority_id) REFERENCES schools (id, authority_id),
    FOREIGN KEY (room_id, school_id) REFERENCES rooms (id, school_id),
    FOREIGN KEY (provider_id, authority_id) REFERENCES provider_contracts (provider_id, authority_id),
    CHECK (room_id IS NULL OR school_id IS NOT NULL),
    CHECK (status <> 'resolved' OR resolved_at IS NOT NULL),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE UNIQUE INDEX tickets_idempotency ON tickets (authority_id, created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX tickets_queue ON tickets (authority_id, status, priority, created_at);
CREATE INDEX tickets_school ON tickets (school_id, status);
CREATE INDEX tickets_provider ON tickets (provider_id, status) WHERE provider_id IS NOT NULL;
CREATE INDEX tickets_reporter ON tickets (reporter_user_id) WHERE reporter_user_id IS NOT NULL;

CREATE TABLE ticket_cis (
    ticket_id bigint NOT NULL REFERENCES tickets (id),
    ci_id     bigint NOT NULL REFERENCES cis (id),
    PRIMARY KEY (ticket_id, ci_id)
);
CREATE INDEX ticket_cis_ci ON ticket_cis (ci_id);

CREATE TABLE ticket_comments (
    id             bigserial PRIMARY KEY,
    ticket_id      bigint NOT NULL REFERENCES tickets (id),
    author         text NOT NULL,
    author_user_id bigint REFERENCES users (id),
    body           text NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 20000),
    internal       boolean NOT NULL DEFAULT false,
    channel        text NOT NULL CHECK (channel IN ('portal', 'email', 'phone', 'api', 'monitoring')),
    created_at     timestamptz NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, id);

-- People affected by the same fault ("me too").
CREATE TABLE ticket_watchers (
    ticket_id  bigint NOT NULL REFERENCES tickets (id),
    user_id    bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, user_id)
);

-- Every change of a ticket: which field, from what to what, who, when
-- and through which channel. Field 'created' marks the creation.
CREATE TABLE ticket_history (
    id        bigserial PRIMARY KEY,
    ticket_id bigint NOT NULL REFERENCES tickets (id),
    at        timestamptz NOT NULL,
    subject   text NOT NULL,
    channel   text NOT NULL CHECK (channel IN ('portal', 'email', 'phone', 'api', 'monitoring')),
    field     text NOT NULL CHECK (length(field) BETWEEN 1 AND 64),
    old_value text NOT NULL DEFAULT '',
    new_value text NOT NULL DEFAULT ''
);
CREATE INDEX ticket_history_ticket ON ticket_history (ticket_id, id);

-- An authority's own priority matrix, impact-major (row 1 = impact 1);
-- without a row the default applies.
CREATE TABLE ticket_priority_matrices (
    authority_id bigint PRIMARY KEY REFERENCES authorities (id),
    cells        int[] NOT NULL CHECK (cardinality(cells) = 9 AND 1 <= ALL (cells) AND 5 >= ALL (cells)),
    updated_at   timestamptz NOT NULL,
    updated_by   text NOT NULL
);
