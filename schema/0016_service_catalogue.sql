-- Service catalogue: what an authority's IT offers, each service with its
-- request form (fields as data), SLA targets and assignee group. Service
-- requests are tickets of type request against a service; incidents and
-- requests share one queue. Also: per-authority editing of the ticket
-- categories (own rows, and platform defaults hidden for one authority).

CREATE TABLE services (
    id               bigserial PRIMARY KEY,
    authority_id     bigint NOT NULL REFERENCES authorities (id),
    name             text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    active           boolean NOT NULL DEFAULT true,
    position         int NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 10000),
    -- The assignee group of its requests: the authority's IT when NULL,
    -- else a provider with a contract for the authority.
    provider_id      bigint,
    level            int NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 3),
    -- SLA targets in minutes; NULL: none.
    response_minutes int CHECK (response_minutes BETWEEN 1 AND 527040),
    resolve_minutes  int CHECK (resolve_minutes BETWEEN 1 AND 527040),
    -- The ordered form fields: [{key, label, label_en, type, required, options, max_length}].
    form             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(form) = 'array'),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT services_name_unique UNIQUE (authority_id, name),
    UNIQUE (id, authority_id),
    FOREIGN KEY (provider_id, authority_id) REFERENCES provider_contracts (provider_id, authority_id),
    CHECK (resolve_minutes IS NULL OR response_minutes IS NULL OR resolve_minutes >= response_minutes)
);

ALTER TABLE tickets
    ADD COLUMN service_id bigint,
    ADD COLUMN form_answers jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(form_answers) = 'object'),
    ADD FOREIGN KEY (service_id, authority_id) REFERENCES services (id, authority_id),
    ADD CHECK (service_id IS NULL OR type = 'request');
CREATE INDEX tickets_service ON tickets (service_id, status) WHERE service_id IS NOT NULL;

-- A platform default category an authority does not want offered. Its
-- old tickets keep it; new ones and changes cannot pick it.
CREATE TABLE ticket_category_hidden (
    authority_id bigint NOT NULL REFERENCES authorities (id),
    category_id  bigint NOT NULL REFERENCES ticket_categories (id),
    PRIMARY KEY (authority_id, category_id)
);
