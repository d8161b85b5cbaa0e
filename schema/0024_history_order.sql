-- A CI's history is read newest first (the device page, /cis/{id}/history);
-- ordered by time, not by id, since sources may report late. Without this
-- index every page load sorted all of a CI's rows (10,000 for an old
-- printer).
CREATE INDEX ci_history_ci_at ON ci_history (ci_id, at DESC, id DESC);
