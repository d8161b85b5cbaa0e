-- The queue: open tickets of an authority or a school, most urgent and
-- oldest first. Partial indexes hold only open tickets (a few percent of
-- all), so the first page of a queue is an ordered walk of a small index
-- and its count an index-only scan, however many tickets were closed.
CREATE INDEX tickets_open_queue ON tickets (authority_id, priority, created_at, id)
    WHERE status IN ('new', 'assigned', 'in_progress', 'waiting');
CREATE INDEX tickets_open_school ON tickets (school_id, priority, created_at, id)
    WHERE status IN ('new', 'assigned', 'in_progress', 'waiting');
