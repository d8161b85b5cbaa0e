-- Problem management (ITIL) and the knowledge base.
--
-- A problem groups incidents with one cause — found by the repeat-failure
-- rule on one CI, by a model pattern across the authority, or by hand —
-- and carries the known error and its workaround. A ticket belongs to at
-- most one problem: a column on tickets, not a link table.
CREATE TABLE problems (
    id            bigserial PRIMARY KEY,
    authority_id  bigint NOT NULL REFERENCES authorities (id),
    title         text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    description   text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    status        text NOT NULL CHECK (status IN ('open', 'known_error', 'resolved', 'closed')),
    known_error   text NOT NULL DEFAULT '' CHECK (length(known_error) <= 20000),
    workaround    text NOT NULL DEFAULT '' CHECK (length(workaround) <= 20000),
    origin        text NOT NULL CHECK (origin IN ('manual', 'repeat_failure', 'pattern')),
    -- What the problem was found on: the CI of a repeat failure, the
    -- vendor and model of a pattern.
    origin_ci_id  bigint REFERENCES cis (id),
    origin_vendor text NOT NULL DEFAULT '' CHECK (length(origin_vendor) <= 200),
    origin_model  text NOT NULL DEFAULT '' CHECK (length(origin_model) <= 200),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    UNIQUE (id, authority_id),
    CHECK (origin <> 'repeat_failure' OR origin_ci_id IS NOT NULL),
    CHECK (origin <> 'pattern' OR (origin_vendor <> '' AND origin_model <> '')),
    -- A known error is one whose cause is written down.
    CHECK (status <> 'known_error' OR btrim(known_error) <> '')
);
CREATE INDEX problems_authority ON problems (authority_id, status, id);

-- Every change of a problem: its fields, and tickets put in or taken
-- out (ticket_id set, so that school IT see only their tickets' rows).
CREATE TABLE problem_history (
    id         bigserial PRIMARY KEY,
    problem_id bigint NOT NULL REFERENCES problems (id),
    at         timestamptz NOT NULL,
    subject    text NOT NULL,
    field      text NOT NULL,
    old_value  text NOT NULL DEFAULT '',
    new_value  text NOT NULL DEFAULT '',
    ticket_id  bigint REFERENCES tickets (id)
);
CREATE INDEX problem_history_problem ON problem_history (problem_id, id);

-- The problem of a ticket lies in the ticket's authority.
ALTER TABLE tickets ADD COLUMN problem_id bigint;
ALTER TABLE tickets ADD CONSTRAINT tickets_problem_fk FOREIGN KEY (problem_id, authority_id) REFERENCES problems (id, authority_id);
CREATE INDEX tickets_problem ON tickets (problem_id) WHERE problem_id IS NOT NULL;
-- Lets knowledge-base articles name their source ticket within the authority.
ALTER TABLE tickets ADD CONSTRAINT tickets_id_authority UNIQUE (id, authority_id);

-- Knowledge-base articles of an authority. body_html is body_md rendered
-- and sanitised when the article is saved (never on read). Tags: CI
-- classes, models ("<vendor> <model>") and ticket categories; an empty
-- tag list fits every class, model or category. Public articles are
-- self-help for teachers before they open a ticket; internal ones are
-- for IT staff and the authority's providers.
CREATE TABLE kb_articles (
    id               bigserial PRIMARY KEY,
    authority_id     bigint NOT NULL REFERENCES authorities (id),
    title            text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    body_md          text NOT NULL DEFAULT '' CHECK (length(body_md) <= 100000),
    body_html        text NOT NULL DEFAULT '',
    public           boolean NOT NULL DEFAULT false,
    classes          text[] NOT NULL DEFAULT '{}' CHECK (classes <@ ARRAY['laptop', 'desktop', 'tablet', 'printer', 'mfp', 'projector',
                         'interactive_display', 'document_camera', 'access_point', 'switch', 'other']::text[]),
    models           text[] NOT NULL DEFAULT '{}' CHECK (cardinality(models) <= 50),
    category_ids     bigint[] NOT NULL DEFAULT '{}' CHECK (cardinality(category_ids) <= 50),
    source_ticket_id bigint,
    version          int NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_by       text NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- German full-text search, the title weighted above the body.
    search           tsvector GENERATED ALWAYS AS (
                         setweight(to_tsvector('german', title), 'A') || setweight(to_tsvector('german', body_md), 'B')) STORED,
    FOREIGN KEY (source_ticket_id, authority_id) REFERENCES tickets (id, authority_id)
);
CREATE INDEX kb_articles_search ON kb_articles USING gin (search);
CREATE INDEX kb_articles_authority ON kb_articles (authority_id, public, updated_at DESC);
