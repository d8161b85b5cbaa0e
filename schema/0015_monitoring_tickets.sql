-- Monitoring opens tickets: per authority and health kind, whether a
-- health event opens a ticket, for which group and how urgent, and
-- whether its recovery resolves the ticket. A kind without a row takes
-- the platform's default (cmdb.DefaultMonitoringRules), so the defaults
-- can improve without a migration.
CREATE TABLE monitoring_rules (
    authority_id bigint NOT NULL REFERENCES authorities (id),
    kind         text NOT NULL CHECK (kind IN ('supply_low', 'supply_empty', 'jam', 'door_open', 'no_paper', 'offline',
                     'service_requested', 'unreachable', 'lamp', 'filter', 'fan', 'temperature', 'other_error')),
    opens_ticket boolean NOT NULL,
    -- The assignee group: the authority's IT when NULL, else a provider
    -- with a contract for the authority.
    provider_id  bigint,
    level        int NOT NULL CHECK (level BETWEEN 1 AND 3),
    impact       int NOT NULL CHECK (impact BETWEEN 1 AND 3),
    urgency      int NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    auto_resolve boolean NOT NULL,
    updated_at   timestamptz NOT NULL,
    updated_by   text NOT NULL,
    PRIMARY KEY (authority_id, kind),
    FOREIGN KEY (provider_id, authority_id) REFERENCES provider_contracts (provider_id, authority_id)
);

-- The ticket monitoring opened for a condition of a CI. While a link is
-- open (closed_at NULL) every event of the CI and kind goes to its
-- ticket; the partial unique index makes a second open ticket per CI and
-- kind impossible, whatever runs concurrently. A link closes when its
-- ticket is resolved by recovery, or when monitoring finds that a person
-- resolved or closed the ticket.
CREATE TABLE monitoring_tickets (
    id            bigserial PRIMARY KEY,
    ticket_id     bigint NOT NULL REFERENCES tickets (id),
    ci_id         bigint NOT NULL REFERENCES cis (id),
    kind          text NOT NULL,
    -- The subjects (e.g. supplies "#1 Black Toner") whose condition is
    -- open now; recovery resolves only when the last one clears.
    open_subjects text[] NOT NULL DEFAULT '{}',
    detail        text NOT NULL DEFAULT '',
    -- cmdb.MaterialDetail of detail: a repeat whose key is unchanged is
    -- only counted, one with a new key is commented on the ticket.
    detail_key    text NOT NULL DEFAULT '',
    -- Events taken for this ticket, repeats included: repeats are
    -- counted here instead of writing a comment each.
    events        bigint NOT NULL DEFAULT 1 CHECK (events >= 1),
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    cleared_at    timestamptz,
    closed_at     timestamptz
);
CREATE UNIQUE INDEX monitoring_tickets_open ON monitoring_tickets (ci_id, kind) WHERE closed_at IS NULL;
CREATE INDEX monitoring_tickets_ticket ON monitoring_tickets (ticket_id);
