-- Ticket e-mail: the language a person's mail is written in, and the
-- mail taken in from an authority's intake mailbox.
ALTER TABLE users ADD COLUMN language text NOT NULL DEFAULT 'de' CHECK (language IN ('de', 'en'));

-- One row per inbound mail taken into the ticket module, so that the same
-- mail handed in again (the poller failed to file it after a successful
-- intake) opens no second ticket and adds no second comment.
CREATE TABLE mail_intake (
    authority_id bigint NOT NULL REFERENCES authorities (id),
    message_id   text NOT NULL CHECK (length(message_id) BETWEEN 1 AND 998),
    ticket_id    bigint REFERENCES tickets (id),
    comment_id   bigint REFERENCES ticket_comments (id),
    outcome      text NOT NULL CHECK (outcome IN ('ticket', 'comment', 'closed')),
    at           timestamptz NOT NULL,
    PRIMARY KEY (authority_id, message_id)
);
