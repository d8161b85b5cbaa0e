-- SLA due times on tickets: each authority's business calendar and SLA
-- targets, the due and warn times stored on every ticket, and the spans
-- during which a ticket's clock stood still (waiting, resolved).

-- An authority's business calendar (cmdb.Calendar as JSON: time zone,
-- German state, weekly opening hours, extra closed days). Without a row
-- the default applies: Monday to Friday 07:30–16:00, Europe/Berlin, public
-- holidays of Nordrhein-Westfalen (the authority has no state column; the
-- calendar holds it).
CREATE TABLE sla_calendars (
    authority_id bigint PRIMARY KEY REFERENCES authorities (id),
    calendar     jsonb NOT NULL CHECK (jsonb_typeof(calendar) = 'object'),
    updated_at   timestamptz NOT NULL,
    updated_by   text NOT NULL
);

-- An authority's SLA targets per priority (cmdb.SLATargets as JSON, in
-- minutes of business time). Without a row cmdb.DefaultSLATargets apply.
CREATE TABLE sla_targets (
    authority_id bigint PRIMARY KEY REFERENCES authorities (id),
    targets      jsonb NOT NULL CHECK (jsonb_typeof(targets) = 'object'),
    updated_at   timestamptz NOT NULL,
    updated_by   text NOT NULL
);

-- Due and warn times. NULL due times: the clock is stopped (waiting)
-- before the target was reached, or the ticket predates this migration.
-- *_warned_at: when the assignee group was warned, so each warning goes
-- out once per due time (cleared when a new priority sets a new target).
ALTER TABLE tickets
    ADD COLUMN first_response_due      timestamptz,
    ADD COLUMN first_response_warn     timestamptz,
    ADD COLUMN resolve_due             timestamptz,
    ADD COLUMN resolve_warn            timestamptz,
    ADD COLUMN first_response_at       timestamptz,
    ADD COLUMN first_response_warned_at timestamptz,
    ADD COLUMN resolve_warned_at       timestamptz,
    -- The due time that decides the ticket's SLA state: the first
    -- response's while none was given (or when it came late, so that a
    -- breach stays a breach), else the resolve due time. Generated, so no
    -- write can let it drift from the columns it is made of.
    ADD COLUMN sla_deadline timestamptz GENERATED ALWAYS AS (
        CASE WHEN first_response_at IS NULL THEN least(first_response_due, resolve_due)
             WHEN first_response_at > first_response_due THEN first_response_due
             ELSE resolve_due END) STORED;

-- sla=breached and sla=due_soon of one authority's open tickets: a range
-- scan of a small partial index (open tickets only).
CREATE INDEX tickets_open_sla ON tickets (authority_id, sla_deadline)
    WHERE status IN ('new', 'assigned', 'in_progress', 'waiting') AND sla_deadline IS NOT NULL;
-- The warning job: open tickets whose warn time passed and that were not
-- warned yet.
CREATE INDEX tickets_sla_warn_first ON tickets (first_response_warn)
    WHERE status IN ('new', 'assigned', 'in_progress', 'waiting') AND first_response_at IS NULL AND first_response_warned_at IS NULL;
CREATE INDEX tickets_sla_warn_resolve ON tickets (resolve_warn)
    WHERE status IN ('new', 'assigned', 'in_progress', 'waiting') AND resolve_warned_at IS NULL;

-- Spans during which a ticket's clock stood still: status waiting, and
-- resolved until a reopen. ended_at NULL: still stopped (at most one).
CREATE TABLE ticket_sla_pauses (
    id         bigserial PRIMARY KEY,
    ticket_id  bigint NOT NULL REFERENCES tickets (id),
    started_at timestamptz NOT NULL,
    ended_at   timestamptz CHECK (ended_at >= started_at),
    reason     text NOT NULL CHECK (reason IN ('waiting', 'resolved'))
);
CREATE INDEX ticket_sla_pauses_ticket ON ticket_sla_pauses (ticket_id, started_at);
CREATE UNIQUE INDEX ticket_sla_pauses_open ON ticket_sla_pauses (ticket_id) WHERE ended_at IS NULL;
