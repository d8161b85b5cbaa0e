-- The staff queue: filters of the ticket list a person keeps under a
-- name. They belong to the person (their tickets are still scoped by the
-- store when the filter is applied); a person's filters go with them.
CREATE TABLE saved_filters (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    query      text NOT NULL CHECK (length(query) <= 2000),
    created_at timestamptz NOT NULL,
    UNIQUE (user_id, name)
);

-- The queue sorted by due time: the open tickets of an authority by the
-- SLA deadline, those without one after (tickets_open_sla covers only
-- those with one).
CREATE INDEX tickets_open_due ON tickets (authority_id, sla_deadline NULLS LAST, priority, created_at, id)
    WHERE status IN ('new', 'assigned', 'in_progress', 'waiting');

-- The same for one school, and the counts per queue (and the totals of
-- filtered lists) read from the index alone: an index-only scan over the
-- open tickets of the authority, filtered on the included columns.
CREATE INDEX tickets_open_school_due ON tickets (school_id, sla_deadline NULLS LAST, priority, created_at, id)
    WHERE status IN ('new', 'assigned', 'in_progress', 'waiting');
CREATE INDEX tickets_open_counts ON tickets (authority_id) INCLUDE (provider_id, status, level, assignee_user_id, sla_deadline, school_id, priority, channel)
    WHERE status IN ('new', 'assigned', 'in_progress', 'waiting');
