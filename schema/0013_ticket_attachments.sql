-- Ticket attachments: photos (JPEG, PNG, WebP, GIF, HEIC/HEIF) and PDFs.
-- The bytes live in the database (bytea) so that a backup of the
-- database (cmdbd backup, pg_dump) is a backup of them; there is no
-- second store to keep in step. Sizes are bounded here as well as in Go.
CREATE TABLE ticket_attachments (
    id             bigserial PRIMARY KEY,
    ticket_id      bigint NOT NULL REFERENCES tickets (id),
    -- The comment the file belongs to, if any; it must be of the same
    -- ticket (the composite key below).
    comment_id     bigint,
    file_name      text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
    -- Detected from the content, never taken from the name or the client.
    media_type     text NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif',
                       'image/heic', 'image/heif', 'application/pdf')),
    size           bigint NOT NULL CHECK (size BETWEEN 1 AND 104857600),
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    data           bytea NOT NULL CHECK (octet_length(data) = size),
    -- Internal attachments are for staff and providers; teachers never
    -- see them (nor that they exist).
    internal       boolean NOT NULL DEFAULT false,
    created_by     text NOT NULL,
    author_user_id bigint REFERENCES users (id),
    channel        text NOT NULL CHECK (channel IN ('portal', 'email', 'phone', 'api', 'monitoring')),
    created_at     timestamptz NOT NULL
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (ticket_id, id);

-- comment_id must name a comment of the same ticket.
ALTER TABLE ticket_comments ADD CONSTRAINT ticket_comments_id_ticket UNIQUE (id, ticket_id);
ALTER TABLE ticket_attachments ADD CONSTRAINT ticket_attachments_comment
    FOREIGN KEY (comment_id, ticket_id) REFERENCES ticket_comments (id, ticket_id);
