-- A condition that comes back after monitoring resolved its ticket by
-- recovery reopens that ticket (while it may still be reopened) instead of
-- opening another, so that a flapping device (a jam cleared and back every
-- few minutes) keeps one ticket instead of a flood of them. The link of an
-- auto-resolved ticket therefore stays open (closed_at NULL) and says when
-- monitoring resolved it; it closes when the ticket is closed, a person
-- resolves it, or the reopen window has passed.
ALTER TABLE monitoring_tickets ADD COLUMN auto_resolved_at timestamptz;
