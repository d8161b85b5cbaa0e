-- Repeat failures and model patterns: a CI with too many incidents in a
-- window is flagged as a replacement candidate by a rule per authority
-- (with overrides per CI class); duplicate tickets are merged into one.

-- An authority's rule; without a row the default (3 incidents in 365
-- days) applies.
CREATE TABLE repeat_failure_rules (
    authority_id  bigint PRIMARY KEY REFERENCES authorities (id),
    min_incidents int NOT NULL CHECK (min_incidents BETWEEN 2 AND 1000),
    window_days   int NOT NULL CHECK (window_days BETWEEN 1 AND 3660),
    updated_at    timestamptz NOT NULL,
    updated_by    text NOT NULL
);

-- Overrides per CI class ("printers: 4 in 180 days").
CREATE TABLE repeat_failure_class_rules (
    authority_id  bigint NOT NULL REFERENCES authorities (id),
    class         text NOT NULL CHECK (class IN ('laptop', 'desktop', 'tablet', 'printer', 'mfp', 'projector',
                      'interactive_display', 'document_camera', 'access_point', 'switch', 'other')),
    min_incidents int NOT NULL CHECK (min_incidents BETWEEN 2 AND 1000),
    window_days   int NOT NULL CHECK (window_days BETWEEN 1 AND 3660),
    PRIMARY KEY (authority_id, class)
);

-- The flags the rule set: one row per flagged CI, written and removed
-- only by the rule (see postgres.RecomputeRepeatFailures). The reason is
-- the incidents in the window, oldest first.
CREATE TABLE ci_repeat_failures (
    ci_id          bigint PRIMARY KEY REFERENCES cis (id),
    authority_id   bigint NOT NULL REFERENCES authorities (id),
    since          timestamptz NOT NULL,
    incident_count int NOT NULL CHECK (incident_count >= 1),
    min_incidents  int NOT NULL,
    window_days    int NOT NULL,
    ticket_ids     bigint[] NOT NULL,
    ticket_numbers text[] NOT NULL,
    clears_at      timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX ci_repeat_failures_authority ON ci_repeat_failures (authority_id);

-- A duplicate is closed and points at the ticket that absorbed it.
ALTER TABLE tickets ADD COLUMN merged_into_id bigint REFERENCES tickets (id),
    ADD CONSTRAINT tickets_merged_closed CHECK (merged_into_id IS NULL OR (merged_into_id <> id AND status = 'closed'));
CREATE INDEX tickets_merged_into ON tickets (merged_into_id) WHERE merged_into_id IS NOT NULL;

-- The incidents of an authority by age: the window of both rules.
CREATE INDEX tickets_incidents ON tickets (authority_id, created_at) INCLUDE (merged_into_id) WHERE type = 'incident';
