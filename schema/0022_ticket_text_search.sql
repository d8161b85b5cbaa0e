-- The ticket queue's text search ("drucker", "00042") looks for a part of
-- the number, title or description anywhere. Without an index that is a
-- scan of every ticket's text (about 60 ms at 200,000 tickets, most of a
-- queue page's time); a trigram index answers ILIKE '%…%' from the index.
-- pg_trgm is a trusted extension shipped with Debian's postgresql package,
-- so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX tickets_text_trgm ON tickets
    USING gin ((number || E'\n' || title || E'\n' || description) gin_trgm_ops);
