-- Durable outbox of notification mail. Producers (tickets) insert a row
-- in their own transaction, so a committed change never loses its mail;
-- dispatchers claim due rows with FOR UPDATE SKIP LOCKED, mark them
-- 'sending' with a lease (next_attempt_at = end of the lease) and then
-- 'sent', or 'queued' again with an exponential backoff, or 'failed'
-- after too many attempts. last_error holds the relay's answer, never
-- credentials.
CREATE TABLE mail_outbox (
    id              bigserial PRIMARY KEY,
    authority_id    bigint REFERENCES authorities (id),
    dedupe_key      text NOT NULL UNIQUE,
    recipients      text[] NOT NULL CHECK (cardinality(recipients) > 0),
    subject         text NOT NULL,
    body_text       text NOT NULL,
    body_html       text NOT NULL DEFAULT '',
    headers         jsonb NOT NULL DEFAULT '{}',
    language        text NOT NULL DEFAULT 'de' CHECK (language IN ('de', 'en')),
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);

-- Dispatchers look for due rows of the two open statuses only.
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at)
    WHERE status IN ('queued', 'sending');
CREATE INDEX mail_outbox_authority ON mail_outbox (authority_id, created_at);
